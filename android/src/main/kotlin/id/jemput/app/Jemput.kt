//! The one place the app calls the native library (the UniFFI-generated `uniffi.jemput`
//! bindings): opening the encrypted store with the Keystore-wrapped key and the HTTP transport
//! the library talks to the hub through, and every read and write the screens need. Screens use the generated record types (data classes) but never call
//! the library themselves, so an API change touches this file only. Every method here blocks
//! on disk I/O: call it through [Latar], never on the main thread.

package id.jemput.app

import android.content.Context
import id.jemput.transport.UrlConnectionTransport
import java.io.File
import uniffi.jemput.ApiException
import uniffi.jemput.ComplaintDetail
import uniffi.jemput.EnrolmentInfo
import uniffi.jemput.JemputStore
import uniffi.jemput.RequestDetail
import uniffi.jemput.StatusCount
import uniffi.jemput.SyncListener
import uniffi.jemput.SyncTask

/** The officer's store on this phone. One per process: [Jemput.buka]. */
class Jemput private constructor(private val store: JemputStore, private val vault: KeyVault) {
    companion object {
        @Volatile private var instance: Jemput? = null

        /** The key wrapper; the Android Keystore on a phone. The JVM tests set a software one
         *  because a plain JVM has no Keystore. */
        @Volatile var pembungkus: ((Context) -> KeyWrapper) = { KeystoreWrapper(it) }

        /** Opens the store (once per process) in the app's no-backup directory, and finishes a
         *  key replacement that was cut short (see [KeyVault]). Blocks. */
        fun buka(ctx: Context): Jemput {
            instance?.let { return it }
            synchronized(this) {
                instance?.let { return it }
                val dir = ctx.applicationContext.noBackupFilesDir
                val vault = KeyVault(File(dir, "jemput.kunci"), pembungkus(ctx.applicationContext))
                val path = File(dir, "jemput.db").path
                var store = bukaDengan(path, vault)
                if (vault.tertunda.exists()) {
                    // Cut before the library's commit: the store is still under the current key.
                    try {
                        store.rotateKey(vault.kunciTertunda()!!)
                        vault.jadikanKini()
                    } catch (e: Exception) {
                        // Not finished now (e.g. a full disk): reopened by the same rule, and
                        // the pending key is tried again at the next start.
                        store.destroy()
                        store = bukaDengan(path, vault)
                    }
                }
                // Every call to the hub goes through the phone's own HTTP and TLS stack (ADR 0016).
                store.setTransport(UrlConnectionTransport())
                val j = Jemput(store, vault)
                instance = j
                return j
            }
        }

        /** The store under the current key; or, when that key is refused because a replacement
         *  committed before it was made current, under the pending one (then made current). */
        private fun bukaDengan(path: String, vault: KeyVault): JemputStore =
            try {
                JemputStore.open(path, vault)
            } catch (e: ApiException.WrongKey) {
                val pending = if (e.code == "kunci_salah") vault.kunciTertunda() else null
                if (pending == null) throw e
                JemputStore.openWithKey(path, pending).also { vault.jadikanKini() }
            }

        /** Closes the store (tests, and after a wrong key so that a retry reopens it). */
        fun tutup() {
            synchronized(this) {
                instance?.store?.destroy()
                instance = null
            }
        }
    }

    /** Replaces the key the store is sealed under with a new random one (the office asks for it
     *  when a phone changes hands or its key may have been copied). Every record is re-sealed in
     *  one transaction; nothing is lost if the app is killed meanwhile. Blocks: seconds for a
     *  store with thousands of requests. */
    fun gantiKunci() {
        synchronized(Companion) {
            val key = vault.buatTertunda()
            store.rotateKey(key)
            vault.jadikanKini()
        }
    }

    /** The enrolment, or null before this phone is enrolled. */
    fun pendaftaran(): EnrolmentInfo? = store.enrolment()

    /** Enrols this phone with the payload of the hub's QR (`jemput://enroll?...`). */
    suspend fun daftarQr(payload: String, namaHp: String): EnrolmentInfo = store.enroll(payload, namaHp)

    /** Enrols this phone with a hub address and a one-time code typed by hand. */
    suspend fun daftarKode(hub: String, kode: String, namaHp: String): EnrolmentInfo = store.enrollWithCode(hub, kode, null, namaHp)

    /** The service catalog (the built-in one until the first sync). */
    fun katalog(): Catalog = store.catalog()

    /** The kelurahan profile, once it arrived by sync. */
    fun kelurahan(): Kelurahan? = store.kelurahan()

    /** How many requests have each status (home screen). */
    fun jumlahPerStatus(): List<StatusCount> = store.statusCounts()

    /** What waits to be sent, and the sentence saying so. */
    fun kesehatan(): SyncHealth = store.syncHealth()

    /** Colleagues' bundles waiting to be forwarded at the next sync. */
    fun titipan(): UInt = store.relayWaiting()

    /** A page of requests, newest first. */
    fun daftar(filter: RequestFilter, offset: Int, limit: Int): List<RequestSummary> =
        store.listRequests(filter, offset.toUInt(), limit.toUInt())

    /** How many requests match [filter]. */
    fun hitung(filter: RequestFilter): Long = store.countRequests(filter).toLong()

    /** A request with its history. */
    fun permohonan(id: String): RequestDetail = store.request(id)

    /** Every issue of a draft, including the duplicate warning. Saves nothing. */
    fun periksa(draft: RequestDraft): List<Issue> = store.checkRequest(draft)

    /** Saves a request; warnings must be [confirmed]. */
    fun catat(draft: RequestDraft, confirmed: Boolean): Recorded = store.recordRequest(draft, confirmed)

    /** The officer collected the missing document the office asked for. */
    fun dilengkapi(id: String): RequestDetail = store.setRequestStatus(id, Status.DILENGKAPI, null)

    /** The officer handed the finished letter to the resident. */
    fun serahkan(id: String): RequestDetail = store.markHandedOver(id)

    /** Saves a complaint, aspiration or suggestion. */
    fun catatAduan(draft: ComplaintDraft): Recorded = store.recordComplaint(draft)

    /** A page of complaints, newest first. */
    fun daftarAduan(offset: Int, limit: Int): List<ComplaintSummary> = store.listComplaints(false, offset.toUInt(), limit.toUInt())

    /** A complaint with the office's latest answer. */
    fun aduan(id: String): ComplaintDetail = store.complaint(id)

    /** Starts a sync on the library's own threads; cancel it through the handle. */
    fun mulaiSinkron(listener: SyncListener): SyncTask = store.startSync(listener)

    /** Everything the hub lacks, as a file to hand over without signal. */
    fun eksporBundel(): ByteArray = store.exportBundle()

    /** A colleague's bundle, forwarded at this phone's next sync; gives how many are waiting. */
    fun imporBundel(bytes: ByteArray): UInt = store.importBundle(bytes)
}

/** The stable code of a library error. */
val ApiException.kode: String
    get() = when (this) {
        is ApiException.WrongKey -> code
        is ApiException.Invalid -> code
        is ApiException.NeedsConfirmation -> code
        is ApiException.NotFound -> code
        is ApiException.Forbidden -> code
        is ApiException.Storage -> code
        is ApiException.Sync -> code
        is ApiException.Cancelled -> code
        else -> "tidak_dikenal"
    }

/** The Bahasa Indonesia sentence of a library error (never personal data). */
val ApiException.kalimat: String
    get() = when (this) {
        is ApiException.WrongKey -> detail
        is ApiException.Invalid -> detail
        is ApiException.NeedsConfirmation -> detail
        is ApiException.NotFound -> detail
        is ApiException.Forbidden -> detail
        is ApiException.Storage -> detail
        is ApiException.Sync -> detail
        is ApiException.Cancelled -> detail
        else -> "Terjadi kesalahan."
    }

/** The sentence to show for any failure: the library's own, or a general one with no details. */
fun pesanGalat(t: Throwable): String =
    if (t is ApiException) t.kalimat else "Terjadi kesalahan di HP ini. Coba lagi; bila terulang, hubungi kantor kelurahan."
