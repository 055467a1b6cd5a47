package id.jemput.bindings

import java.nio.file.Path
import java.security.SecureRandom
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import uniffi.jemput_core.Address
import uniffi.jemput.ApiException
import uniffi.jemput_core.Applicant
import uniffi.jemput_core.ComplaintCategory
import uniffi.jemput_core.ComplaintDraft
import uniffi.jemput.JemputStore
import uniffi.jemput_core.Place
import uniffi.jemput_core.RequestDraft
import uniffi.jemput_core.RequestFilter
import uniffi.jemput_core.Severity
import uniffi.jemput_core.Sex
import uniffi.jemput_core.Status
import uniffi.jemput.checkReceiptCode
import uniffi.jemput.validateNik

/** Tests of the real libjemput through the generated Kotlin, as the Android app will use it. */
class JemputStoreTest {
    @TempDir
    lateinit var dir: Path

    private val key: ByteArray = ByteArray(32).also { SecureRandom().nextBytes(it) }
    private val dbPath: String get() = dir.resolve("jemput.db").toString()

    private fun open(withKey: ByteArray = key): JemputStore = JemputStore.openWithKey(dbPath, withKey)

    /** A NIK for a man born 1985-12-17. */
    private fun nikLaki1985(serial: Int) = "357602171285%04d".format(serial)

    private fun domisiliDraft(nik: String, name: String, rw: UShort, rt: UShort) = RequestDraft(
        serviceCode = "domisili",
        applicant = Applicant(
            name = name,
            nik = nik,
            kk = "3576020101150003",
            birthPlace = "Surabaya",
            birthDate = "1985-12-17",
            sex = Sex.LAKI_LAKI,
            address = Address(street = "Jl. Mawar No. 4", rt = rt, rw = rw),
        ),
        documentsSeen = listOf("ktp", "kk"),
        fields = mapOf("keperluan" to "Melamar pekerjaan"),
    )

    /** Changes one character of the code's data part to another of the receipt alphabet. */
    private fun mistype(code: String): String {
        val chars = code.toCharArray()
        chars[5] = if (chars[5] == '2') '3' else '2'
        return String(chars)
    }

    @Test
    fun `the default catalog has at least 21 services including SKTM with its requirements`() {
        open().use { store ->
            val catalog = store.catalog()
            assertTrue(catalog.services.size >= 21, "only ${catalog.services.size} services")
            val sktm = catalog.services.single { it.code == "sktm" }
            assertTrue(sktm.name.startsWith("Surat Keterangan Tidak Mampu"), sktm.name)
            assertTrue(sktm.active)
            assertTrue(sktm.requirements.any { it.code == "ktp" && it.mandatory }, "${sktm.requirements}")
            assertTrue(sktm.fields.any { it.key == "keperluan" && it.required }, "${sktm.fields}")
            assertEquals(null, store.kelurahan(), "a fresh store has no kelurahan profile before sync")
        }
    }

    @Test
    fun `recording a valid request gives a receipt code that checks and a mistyped one that does not`() {
        open().use { store ->
            store.setEnrolment("petugas-rw005", "K7QM")
            assertEquals(emptyList<Any>(), store.checkRequest(sktmDraft()))
            val recorded = store.recordRequest(sktmDraft(), false)
            assertTrue(recorded.receipt.startsWith("K7QM-"), recorded.receipt)
            assertEquals(emptyList<Any>(), recorded.warnings)
            assertTrue(checkReceiptCode(recorded.receipt))
            assertTrue(checkReceiptCode(recorded.receipt.lowercase().replace("-", " ")))
            assertFalse(checkReceiptCode(mistype(recorded.receipt)), "mistyped ${mistype(recorded.receipt)}")

            val detail = store.requestByReceipt(recorded.receipt.lowercase())
            val request = detail.request
            assertEquals(recorded.id, request.id)
            assertEquals("Siti Aminah", request.applicant.name)
            assertEquals(Status.DICATAT, detail.status)
            assertEquals("petugas-rw005", request.officerId)
            assertEquals(true, request.checklist["surat_pernyataan_tidak_mampu"])

            val wrong = assertThrows<ApiException.Invalid> { store.requestByReceipt(mistype(recorded.receipt)) }
            assertEquals("kode_salah_ketik", wrong.issues.single().code)

            val second = store.recordRequest(sktmDraft(nik = nikPerempuan1990(2), name = "Dewi Lestari"), false)
            assertNotEquals(recorded.receipt, second.receipt)
        }
    }

    @Test
    fun `a bad NIK gives an issue with a stable code and an Indonesian message without the NIK`() {
        open().use { store ->
            val issues = store.checkRequest(sktmDraft(nik = "35760244059"))
            val nik = issues.single { it.field == "applicant.nik" }
            assertEquals("nik_panjang", nik.code)
            assertEquals(Severity.ERROR, nik.severity)
            assertTrue(nik.message.contains("harus terdiri dari 16 angka"), nik.message)
            assertFalse(nik.message.contains("35760244059"), nik.message)

            val refused = assertThrows<ApiException.Invalid> { store.recordRequest(sktmDraft(nik = "35760244059"), true) }
            assertEquals("tidak_valid", refused.code)
            assertTrue(refused.issues.any { it.code == "nik_panjang" }, "${refused.issues}")
            assertFalse(refused.message!!.contains("35760244059"))
            assertEquals(0uL, store.countRequests(RequestFilter()), "nothing is saved")

            // The same check without a store, as the officer types.
            assertEquals(listOf("nik_provinsi"), validateNik("9976024405900001", null, null).map { it.code })
            val sexMismatch = validateNik(nikPerempuan1990(1), "1990-05-04", Sex.LAKI_LAKI)
            assertEquals(listOf("nik_jenis_kelamin_beda"), sexMismatch.map { it.code })
            assertEquals(Severity.WARNING, sexMismatch.single().severity)
            assertEquals(emptyList<Any>(), validateNik(nikPerempuan1990(1), "1990-05-04", Sex.PEREMPUAN))
        }
    }

    @Test
    fun `rotating the key keeps everything and the old key stops working`() {
        val receipt = open().use { store -> store.recordRequest(sktmDraft(), false).receipt }
        val newKey = ByteArray(32).also { SecureRandom().nextBytes(it) }
        open().use { store ->
            assertEquals("kunci_tidak_valid", assertThrows<ApiException.WrongKey> { store.rotateKey(ByteArray(16)) }.code)
            store.rotateKey(newKey.copyOf())
            assertEquals("Siti Aminah", store.requestByReceipt(receipt).request.applicant.name)
        }
        assertEquals("kunci_salah", assertThrows<ApiException.WrongKey> { open(key) }.code)
        open(newKey).use { store -> assertEquals("Siti Aminah", store.requestByReceipt(receipt).request.applicant.name) }
    }

    @Test
    fun `a wrong key is refused with the wrong-key code and the data is still there with the right key`() {
        val receipt = open().use { store -> store.recordRequest(sktmDraft(), false).receipt }

        val otherKey = key.copyOf().also { it[0] = (it[0] + 1).toByte() }
        val wrong = assertThrows<ApiException.WrongKey> { open(otherKey) }
        assertEquals("kunci_salah", wrong.code)
        assertTrue(wrong.detail.contains("Kunci enkripsi salah"), wrong.detail)

        val short = assertThrows<ApiException.WrongKey> { open(ByteArray(16)) }
        assertEquals("kunci_tidak_valid", short.code)

        open().use { store ->
            assertEquals(1uL, store.countRequests(RequestFilter()))
            assertEquals("Siti Aminah", store.requestByReceipt(receipt).request.applicant.name)
        }
    }

    @Test
    fun `list and count honour the filter and paging`() {
        open().use { store ->
            val a = store.recordRequest(sktmDraft(nik = nikPerempuan1990(1), name = "Siti Aminah", rw = 5u, rt = 3u), false)
            val b = store.recordRequest(domisiliDraft(nikLaki1985(1), "Budi Santoso", rw = 5u, rt = 1u), false)
            val c = store.recordRequest(domisiliDraft(nikLaki1985(2), "Agus Salim", rw = 6u, rt = 2u), false)

            assertEquals(3uL, store.countRequests(RequestFilter()))
            assertEquals(2uL, store.countRequests(RequestFilter(rw = 5u)))
            assertEquals(1uL, store.countRequests(RequestFilter(rw = 5u, rt = 1u)))
            assertEquals(2uL, store.countRequests(RequestFilter(serviceCode = "domisili")))
            assertEquals(0uL, store.countRequests(RequestFilter(status = Status.SELESAI)))

            val rw5 = store.listRequests(RequestFilter(rw = 5u), 0u, 10u)
            assertEquals(setOf(a.receipt, b.receipt), rw5.map { it.receipt }.toSet())
            assertEquals(listOf(c.id), store.listRequests(RequestFilter(name = "agu"), 0u, 10u).map { it.id })
            assertEquals("Agus Salim", store.listRequests(RequestFilter(rw = 6u), 0u, 10u).single().applicantName)

            val page1 = store.listRequests(RequestFilter(), 0u, 2u)
            val page2 = store.listRequests(RequestFilter(), 2u, 2u)
            assertEquals(2, page1.size)
            assertEquals(1, page2.size)
            assertEquals(setOf(a.id, b.id, c.id), (page1 + page2).map { it.id }.toSet())
        }
    }

    @Test
    fun `a second open request for the same NIK and service warns kemungkinan_ganda until confirmed`() {
        open().use { store ->
            val first = store.recordRequest(sktmDraft(), false)

            val warning = store.checkRequest(sktmDraft()).single()
            assertEquals("kemungkinan_ganda", warning.code)
            assertEquals(Severity.WARNING, warning.severity)
            assertTrue(warning.message.contains(first.receipt), warning.message)

            val needs = assertThrows<ApiException.NeedsConfirmation> { store.recordRequest(sktmDraft(), false) }
            assertEquals("perlu_konfirmasi", needs.code)
            assertEquals(listOf("kemungkinan_ganda"), needs.issues.map { it.code })
            assertEquals(1uL, store.countRequests(RequestFilter()))

            val confirmed = store.recordRequest(sktmDraft(), true)
            assertEquals(listOf("kemungkinan_ganda"), confirmed.warnings.map { it.code })
            assertEquals(2uL, store.countRequests(RequestFilter()))
        }
    }

    @Test
    fun `office statuses are forbidden to the officer and complaints and sync state are kept`() {
        open().use { store ->
            val rec = store.recordRequest(sktmDraft(), false)
            val forbidden = assertThrows<ApiException.Forbidden> { store.setRequestStatus(rec.id, Status.SELESAI, null) }
            assertEquals("tidak_diizinkan", forbidden.code)
            val seen = store.setDocumentSeen(rec.id, "kk", false)
            assertEquals(false, seen.request.checklist["kk"])
            assertThrows<ApiException.NotFound> { store.request("tidak-ada") }

            val complaint = store.recordComplaint(
                ComplaintDraft(
                    category = ComplaintCategory.PENGADUAN,
                    topic = "Jalan rusak",
                    text = "Jalan berlubang di depan musala",
                    place = Place(rt = 3u, rw = 5u, description = "Depan musala"),
                ),
            )
            assertTrue(checkReceiptCode(complaint.receipt))
            assertEquals(listOf(complaint.id), store.listComplaints(true, 0u, 10u).map { it.id })

            val health = store.syncHealth()
            assertEquals(1u, health.unsentRequests)
            assertEquals(1u, health.unsentComplaints)
            assertTrue(health.summary.contains("belum terkirim"), health.summary)
            assertTrue(store.exportBundle().isNotEmpty())
            assertEquals(0u, store.purgeExpired(30u).requests)
        }
    }
}
