//! Screen 4, a new request at the resident's door, in steps: service → requirements seen (ticks)
//! → applicant, checked as the officer types (the NIK may be typed in groups with spaces; a
//! complete NIK fills in the birth date and sex it encodes) with the duplicate warning → the
//! service's own fields → confirm → the receipt code, large, with the words to read it aloud.
//! A standard SKTM request takes 6 taps besides typing (counted by a test).

package id.jemput.app

import android.text.InputType
import android.view.View
import android.widget.CheckBox
import android.widget.LinearLayout
import android.widget.ScrollView
import java.util.Calendar
import uniffi.jemput.ApiException
import uniffi.jemput.EnrolmentInfo
import uniffi.jemput.normalizeNik
import uniffi.jemput.validateNik

/** The new-request flow. */
class LayarPermohonanBaru(a: MainActivity) : Layar(a) {
    override val judul = "Permohonan baru"

    private enum class Langkah(val judul: String) {
        LAYANAN("1. Pilih surat"), SYARAT("2. Syarat dilihat"), PEMOHON("3. Data pemohon"),
        ISIAN("4. Keterangan"), KONFIRMASI("5. Periksa lagi"), TANDA_TERIMA("Tanda terima"),
    }

    private var langkah = Langkah.LAYANAN
    private lateinit var wadah: LinearLayout
    private lateinit var gulir: ScrollView
    private var layanan: Service? = null
    private var daftar: EnrolmentInfo? = null
    private val syarat = LinkedHashMap<String, Boolean>()
    private var peringatan: List<Issue> = emptyList()
    private var kodeTerima = ""

    // The applicant's fields live as long as the screen, so going back keeps what was typed.
    private val nama = Isian(a, "Nama lengkap (sesuai KTP)")
    private val nik = Isian(a, "NIK (16 angka)", "boleh diketik berkelompok: 3576 0244 …", InputType.TYPE_CLASS_PHONE)
    private val kk = Isian(a, "Nomor KK (16 angka)", "", InputType.TYPE_CLASS_PHONE)
    private val tempatLahir = Isian(a, "Tempat lahir")
    private val tanggalLahir = Isian(a, "Tanggal lahir", "HH-BB-TTTT, contoh 04-05-1990", InputType.TYPE_CLASS_DATETIME)
    private val kelamin = Pilihan(a, listOf(Sex.LAKI_LAKI to "Laki-laki", Sex.PEREMPUAN to "Perempuan")) { kelaminGalat.visibility = View.GONE }
    private val kelaminGalat = a.teks("Pilih jenis kelamin.", 16f, color = Warna.GALAT).apply { visibility = View.GONE }
    private val jalan = Isian(a, "Alamat (jalan, gang, nomor)")
    private val rt = Isian(a, "RT", "", InputType.TYPE_CLASS_NUMBER)
    private val rw = Isian(a, "RW", "", InputType.TYPE_CLASS_NUMBER)
    private val hp = Isian(a, "Nomor HP (boleh kosong)", "08…", InputType.TYPE_CLASS_PHONE)
    private val wa = a.centang("Nomor ini memakai WhatsApp")
    private val isian = LinkedHashMap<String, Isian>()
    private val catatan = Isian(a, "Catatan petugas (boleh kosong)", "", InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_FLAG_MULTI_LINE or InputType.TYPE_TEXT_FLAG_CAP_SENTENCES)

    init {
        nik.saatBerubah { periksaNik() }
        kk.saatBerubah { periksaKk() }
        tanggalLahir.saatBerubah { if (normalizeNik(nik.nilai).length >= 16) periksaNik() }
        nama.saatBerubah { if (it.isNotBlank()) nama.tampilkan(null) }
    }

    override fun tampil(): View {
        wadah = a.kolom()
        gulir = a.gulir(wadah)
        a.kerja({ j -> j.pendaftaran() }) { d ->
            daftar = d
            if (d != null && rw.nilai.isEmpty()) {
                rw.nilai = d.rw.toString()
                d.rt?.let { rt.nilai = it.toString() }
            }
        }
        gambar()
        return gulir
    }

    override fun kembali(): Boolean {
        langkah = when (langkah) {
            Langkah.LAYANAN, Langkah.TANDA_TERIMA -> return false
            Langkah.SYARAT -> Langkah.LAYANAN
            Langkah.PEMOHON -> Langkah.SYARAT
            Langkah.ISIAN -> Langkah.PEMOHON
            Langkah.KONFIRMASI -> if (isian.isEmpty()) Langkah.PEMOHON else Langkah.ISIAN
        }
        gambar()
        return true
    }

    private fun pindah(l: Langkah) {
        langkah = l
        gambar()
    }

    private fun gambar() {
        a.setJudul(langkah.judul)
        wadah.removeAllViews()
        // Fields are kept between steps: detach them from the rows that held them last time.
        val tetap = listOf(nama, nik, kk, tempatLahir, tanggalLahir, jalan, rt, rw, hp, catatan).map { it.view } +
            isian.values.map { it.view } + listOf(kelamin.view, kelaminGalat, wa)
        tetap.forEach { v -> (v.parent as? android.view.ViewGroup)?.removeView(v) }
        when (langkah) {
            Langkah.LAYANAN -> pilihLayanan()
            Langkah.SYARAT -> syaratDilihat()
            Langkah.PEMOHON -> dataPemohon()
            Langkah.ISIAN -> isianLayanan()
            Langkah.KONFIRMASI -> konfirmasi()
            Langkah.TANDA_TERIMA -> tandaTerima()
        }
        gulir.scrollTo(0, 0)
    }

    private fun pilihLayanan() {
        wadah.addView(a.teks("Surat apa yang diminta warga?", 20f, bold = true))
        a.kerja({ j -> j.katalog() }) { cat ->
            if (langkah != Langkah.LAYANAN) return@kerja
            for (s in cat.services.filter { it.active }) {
                wadah.addView(a.tombol(s.name) {
                    if (layanan?.code != s.code) {
                        layanan = s
                        syarat.clear()
                        s.requirements.forEach { syarat[it.code] = false }
                        isian.clear()
                        s.fields.forEach { f -> isian[f.key] = Isian(a, f.label + if (f.required) "" else " (boleh kosong)", "", tipe(f.kind)) }
                    }
                    pindah(Langkah.SYARAT)
                })
            }
        }
    }

    private fun tipe(k: FieldKind): Int = when (k) {
        FieldKind.TEXT -> InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_FLAG_CAP_SENTENCES
        FieldKind.LONG_TEXT -> InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_FLAG_MULTI_LINE or InputType.TYPE_TEXT_FLAG_CAP_SENTENCES
        FieldKind.DATE -> InputType.TYPE_CLASS_DATETIME
        FieldKind.NUMBER -> InputType.TYPE_CLASS_NUMBER
        FieldKind.NIK, FieldKind.PHONE -> InputType.TYPE_CLASS_PHONE
    }

    private fun syaratDilihat() {
        val s = layanan ?: return
        wadah.addView(a.teks(s.name, 20f, bold = true))
        wadah.addView(a.teks("Centang dokumen asli yang sudah Anda lihat:", 18f))
        for (r in s.requirements) {
            wadah.addView(a.centang(r.label + if (r.mandatory) "" else " (bila ada)", syarat[r.code] == true) { syarat[r.code] = it })
        }
        wadah.addView(a.tombol("Semua sudah dilihat, lanjut", utama = true) {
            syarat.keys.forEach { syarat[it] = true }
            pindah(Langkah.PEMOHON)
        })
        wadah.addView(a.tombol("Lanjut dengan yang dicentang") { pindah(Langkah.PEMOHON) })
    }

    private fun dataPemohon() {
        galatUmum?.let { wadah.addView(it) }
        for (f in listOf(nama, nik, kk, tempatLahir, tanggalLahir)) wadah.addView(f.view)
        wadah.addView(a.teks("Jenis kelamin", 16f, bold = true, color = Warna.TEKS_PUDAR).apply { setPadding(0, a.dp(8), 0, 0) })
        wadah.addView(kelamin.view)
        wadah.addView(kelaminGalat)
        wadah.addView(jalan.view)
        val baris = LinearLayout(a).apply { orientation = LinearLayout.HORIZONTAL }
        baris.addView(rt.view, LinearLayout.LayoutParams(0, -2, 1f).apply { marginEnd = a.dp(12) })
        baris.addView(rw.view, LinearLayout.LayoutParams(0, -2, 1f))
        wadah.addView(baris)
        wadah.addView(hp.view)
        wadah.addView(wa)
        wadah.addView(a.tombol("Lanjut", utama = true) { periksa(Langkah.PEMOHON) })
    }

    private fun isianLayanan() {
        val s = layanan ?: return
        galatUmum?.let { wadah.addView(it) }
        wadah.addView(a.teks(s.name, 20f, bold = true))
        for (f in isian.values) wadah.addView(f.view)
        wadah.addView(catatan.view)
        wadah.addView(a.tombol("Lanjut", utama = true) { periksa(Langkah.ISIAN) })
    }

    private fun konfirmasi() {
        val s = layanan ?: return
        val d = draft()
        val c = a.kartu()
        c.addView(a.teks(s.name, 20f, bold = true))
        c.addView(a.teks(d.applicant.name, 20f))
        c.addView(a.teks("NIK " + Teks.nikSamar(d.applicant.nik), 18f))
        c.addView(a.teks("${d.applicant.address.street}, " + Teks.rtRw(d.applicant.address.rt.toInt(), d.applicant.address.rw.toInt()), 18f))
        c.addView(a.teks("Dokumen dilihat: ${d.documentsSeen.size} dari ${s.requirements.size}", 18f))
        for (f in s.fields) d.fields[f.key]?.let { v -> c.addView(a.teks("${f.label}: $v", 18f)) }
        wadah.addView(c)
        if (peringatan.isNotEmpty()) {
            val w = a.kartu(Warna.PERINGATAN_LATAR)
            w.addView(a.teks("Periksa dulu:", 18f, bold = true, color = Warna.PERINGATAN))
            peringatan.forEach { w.addView(a.teks("•  " + it.message, 18f, color = Warna.PERINGATAN)) }
            w.addView(a.teks("Bila sudah benar, tetap simpan.", 16f, color = Warna.PERINGATAN))
            wadah.addView(w)
        }
        wadah.addView(a.tombol("Simpan permohonan", utama = true) { simpan() })
        wadah.addView(a.tombol("Ubah data") { kembali() })
    }

    private fun tandaTerima() {
        wadah.addView(a.teks("Permohonan tersimpan di HP ini.", 20f, bold = true, color = Warna.BAIK))
        wadah.addView(a.teks("Kode tanda terima untuk warga:", 18f).apply { setPadding(0, a.dp(12), 0, 0) })
        wadah.tambahTandaTerima(kodeTerima)
        wadah.addView(a.teks("Tuliskan kode ini untuk warga. Dengan kode ini warga menanyakan suratnya ke kantor kelurahan.", 17f, color = Warna.TEKS_PUDAR).apply { setPadding(0, a.dp(8), 0, 0) })
        wadah.addView(a.tombol("Selesai", utama = true) { a.ganti(LayarBeranda(a)) })
        wadah.addView(a.tombol("Catat permohonan lain") { a.ganti(LayarBeranda(a)); a.buka(LayarPermohonanBaru(a)) })
    }

    // ---- checks ----

    private var galatUmum: View? = null

    private fun periksaNik() {
        val d = normalizeNik(nik.nilai)
        if (d.isEmpty()) return nik.tampilkan(null)
        // While the digits are still being typed, count them; anything else is the library's to explain.
        if (d.length < 16 && d.all { it in '0'..'9' }) return nik.tampilkan("${d.length} dari 16 angka", peringatan = true)
        if (tanggalLahir.nilai.isEmpty() && kelamin.terpilih == null) {
            Teks.dariNik(d, Calendar.getInstance().get(Calendar.YEAR))?.let { (tgl, sex) ->
                tanggalLahir.nilai = tgl
                kelamin.pilih(sex)
            }
        }
        val lahir = tanggalLahir.nilai.takeIf { it.isNotEmpty() }?.let { Teks.keIso(it) }
        val issues = validateNik(nik.nilai, lahir, kelamin.terpilih)
        val e = issues.firstOrNull { it.severity == Severity.ERROR } ?: issues.firstOrNull()
        nik.tampilkan(e?.message, peringatan = e?.severity == Severity.WARNING)
    }

    private fun periksaKk() {
        // A KK number is typed like a NIK (groups of digits); the library checks it at "Lanjut".
        val d = normalizeNik(kk.nilai)
        val hitung = d.isNotEmpty() && d.length != 16 && d.all { it in '0'..'9' }
        kk.tampilkan(if (hitung) "${d.length} dari 16 angka" else null, peringatan = d.length < 16)
    }

    private fun angka(f: Isian): UShort = f.nilai.toIntOrNull()?.takeIf { it in 0..999 }?.toUShort() ?: 0u

    private fun draft(): RequestDraft = RequestDraft(
        serviceCode = layanan?.code ?: "",
        applicant = Applicant(
            name = nama.nilai,
            nik = normalizeNik(nik.nilai),
            kk = normalizeNik(kk.nilai),
            birthPlace = tempatLahir.nilai,
            birthDate = Teks.keIso(tanggalLahir.nilai),
            sex = kelamin.terpilih ?: Sex.LAKI_LAKI,
            address = Address(street = jalan.nilai, rt = angka(rt), rw = angka(rw)),
            phone = hp.nilai.takeIf { it.isNotEmpty() },
            usesWhatsapp = wa.isChecked,
        ),
        documentsSeen = syarat.filterValues { it }.keys.toList(),
        fields = isian.mapValues { (k, f) ->
            val kind = layanan?.fields?.firstOrNull { it.key == k }?.kind
            if (kind == FieldKind.DATE) Teks.keIso(f.nilai) else f.nilai
        }.filterValues { it.isNotEmpty() },
        notes = catatan.nilai,
    )

    private fun isianUntuk(field: String): Isian? = when {
        field == "applicant.name" -> nama
        field == "applicant.nik" -> nik
        field == "applicant.kk" -> kk
        field == "applicant.birth_place" -> tempatLahir
        field == "applicant.birth_date" -> tanggalLahir
        field.startsWith("applicant.address.street") -> jalan
        field == "applicant.address.rt" -> rt
        field == "applicant.address.rw" -> rw
        field == "applicant.address" -> rw
        field == "applicant.phone" -> hp
        field.startsWith("fields.") -> isian[field.removePrefix("fields.")]
        else -> null
    }

    /** Checks the draft with the library at the end of a step and shows each issue at its field. */
    private fun periksa(dari: Langkah) {
        val semua = listOf(nama, nik, kk, tempatLahir, tanggalLahir, jalan, rt, rw, hp) + isian.values
        semua.forEach { it.tampilkan(null) }
        kelaminGalat.visibility = if (kelamin.terpilih == null) View.VISIBLE else View.GONE
        if (kelamin.terpilih == null && dari == Langkah.PEMOHON) return
        val d = draft()
        a.kerja({ j -> j.periksa(d) }) { issues ->
            val bagianIni = issues.filter { i ->
                if (dari == Langkah.PEMOHON) !i.field.startsWith("fields.") && !i.field.startsWith("documents") else true
            }
            var lain = ArrayList<Issue>()
            var adaGalat = false
            for (i in bagianIni) {
                val f = isianUntuk(i.field)
                val warn = i.severity == Severity.WARNING
                if (!warn) adaGalat = true
                when {
                    f != null -> f.tampilkan(i.message, peringatan = warn)
                    i.field == "applicant.sex" -> { kelaminGalat.text = i.message; kelaminGalat.visibility = View.VISIBLE }
                    else -> lain.add(i)
                }
            }
            lain = ArrayList(lain.filter { it.severity == Severity.ERROR })
            galatUmum = if (lain.isEmpty()) null else a.kartu(Warna.PERINGATAN_LATAR).apply {
                lain.forEach { addView(a.teks("•  " + it.message, 17f, color = Warna.GALAT)) }
            }
            peringatan = issues.filter { it.severity == Severity.WARNING }
            if (adaGalat) {
                if (dari == Langkah.PEMOHON || dari == Langkah.ISIAN) {
                    galatUmum?.let { v -> (v.parent as? LinearLayout)?.removeView(v); wadah.addView(v, 0) }
                }
                return@kerja
            }
            pindah(if (dari == Langkah.PEMOHON && isian.isNotEmpty()) Langkah.ISIAN else Langkah.KONFIRMASI)
        }
    }

    private fun simpan() {
        val d = draft()
        val yakin = peringatan.isNotEmpty()
        Latar.kerjakan({ Jemput.buka(a).catat(d, yakin) }, { t ->
            when (t) {
                is ApiException.NeedsConfirmation -> { peringatan = t.issues; gambar() }
                is ApiException.Invalid -> { a.galat(t.kalimat); pindah(Langkah.PEMOHON); t.issues.forEach { i -> isianUntuk(i.field)?.tampilkan(i.message) } }
                else -> a.galat(t)
            }
        }) { rec ->
            kodeTerima = rec.receipt
            pindah(Langkah.TANDA_TERIMA)
            Sinkron.kirimSegera(a)
        }
    }
}
