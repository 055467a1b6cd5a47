//! Screen 6, complaints and aspirations: the list with the office's answers, a short form for a
//! new one (category, topic, what happened, where, optionally who reports), and its receipt.

package id.jemput.app

import android.text.InputType
import android.view.Gravity
import android.view.View
import android.widget.LinearLayout
import uniffi.jemput.ComplaintDetail

/** The officer's complaints and aspirations, newest first. */
class LayarAduan(a: MainActivity) : Layar(a) {
    override val judul = "Pengaduan & aspirasi"
    private lateinit var daftar: LinearLayout

    override fun tampil(): View {
        val k = a.kolom()
        k.addView(a.tombol("+ Catat pengaduan atau aspirasi", utama = true) { a.buka(LayarAduanBaru(a)) })
        daftar = LinearLayout(a).apply { orientation = LinearLayout.VERTICAL }
        k.addView(daftar)
        segarkan()
        return a.gulir(k)
    }

    override fun segarkan() {
        a.kerja({ j -> j.daftarAduan(0, 50).map { it to j.aduan(it.id) } }) { rows ->
            daftar.removeAllViews()
            if (rows.isEmpty()) daftar.addView(a.teks("Belum ada pengaduan atau aspirasi.", 18f, color = Warna.TEKS_PUDAR).apply { setPadding(0, a.dp(12), 0, 0) })
            rows.forEach { (s, d) -> daftar.addView(baris(s, d)) }
        }
    }

    private fun baris(s: ComplaintSummary, d: ComplaintDetail): View = a.kartu().apply {
        setOnClickListener { a.buka(LayarAduanRinci(a, s.id)) }
        val atas = LinearLayout(a).apply { orientation = LinearLayout.HORIZONTAL; gravity = Gravity.CENTER_VERTICAL }
        atas.addView(a.teks("${Teks.kategori(s.category)}: ${d.complaint.topic}", 18f, bold = true), LinearLayout.LayoutParams(0, -2, 1f))
        atas.addView(a.lencana(Teks.statusAduan(s.status), Teks.warnaStatusAduan(s.status)))
        addView(atas)
        addView(a.teks("${s.receipt} · ${Teks.rtRw(s.rt.toInt(), s.rw.toInt())}", 16f, color = Warna.TEKS_PUDAR))
        d.latestResponse?.let { addView(a.teks("Jawaban kantor: $it", 17f, color = Warna.BAIK)) }
    }
}

/** One complaint and the office's answer. */
class LayarAduanRinci(a: MainActivity, private val id: String) : LayarMuat<ComplaintDetail>(a) {
    override val judul = "Rincian pengaduan"

    override fun muat(j: Jemput): ComplaintDetail = j.aduan(id)

    override fun isi(k: LinearLayout, d: ComplaintDetail) {
        val c = d.complaint
        k.addView(a.teks(Teks.kategori(c.category), 17f, color = Warna.TEKS_PUDAR))
        k.addView(a.teks(c.topic, 21f, bold = true))
        k.addView(a.kode(c.receipt, 20f))
        k.addView(a.lencana(Teks.statusAduan(d.status), Teks.warnaStatusAduan(d.status)).apply { layoutParams = LinearLayout.LayoutParams(-2, -2).apply { topMargin = a.dp(6) } })
        k.addView(a.teks(c.text, 18f).apply { setPadding(0, a.dp(10), 0, 0) })
        k.addView(a.teks("Tempat: ${c.place.description}, ${Teks.rtRw(c.place.rt.toInt(), c.place.rw.toInt())}", 17f))
        val jawab = a.kartu()
        jawab.addView(a.teks("Jawaban kantor kelurahan", 18f, bold = true))
        jawab.addView(a.teks(d.latestResponse ?: "Belum ada jawaban. Jawaban akan muncul di sini setelah sinkron.", 18f))
        k.addView(jawab)
        d.refusal?.let { k.addView(a.teks(it.message, 17f, color = Warna.GALAT)) }
    }
}

/** The form for a new complaint, aspiration or suggestion. */
class LayarAduanBaru(a: MainActivity) : Layar(a) {
    override val judul = "Pengaduan baru"
    private val kategori = Pilihan(a, listOf(ComplaintCategory.PENGADUAN to "Pengaduan", ComplaintCategory.ASPIRASI to "Aspirasi", ComplaintCategory.SARAN to "Saran"))
    private val topik = Isian(a, "Tentang apa", "contoh: Jalan rusak", InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_FLAG_CAP_SENTENCES)
    private val isi = Isian(a, "Ceritakan singkat", "", InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_FLAG_MULTI_LINE or InputType.TYPE_TEXT_FLAG_CAP_SENTENCES)
    private val tempat = Isian(a, "Di mana", "contoh: Depan musala", InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_FLAG_CAP_SENTENCES)
    private val rt = Isian(a, "RT", "", InputType.TYPE_CLASS_NUMBER)
    private val rw = Isian(a, "RW", "", InputType.TYPE_CLASS_NUMBER)
    private val pelapor = Isian(a, "Nama pelapor (boleh kosong)")
    private val hp = Isian(a, "HP pelapor (boleh kosong)", "08…", InputType.TYPE_CLASS_PHONE)
    private val kategoriGalat = a.teks("Pilih salah satu.", 16f, color = Warna.GALAT).apply { visibility = View.GONE }
    private lateinit var k: LinearLayout

    override fun tampil(): View {
        k = a.kolom()
        k.addView(a.teks("Jenis", 16f, bold = true, color = Warna.TEKS_PUDAR))
        k.addView(kategori.view)
        k.addView(kategoriGalat)
        listOf(topik, isi, tempat).forEach { k.addView(it.view) }
        val baris = LinearLayout(a).apply { orientation = LinearLayout.HORIZONTAL }
        baris.addView(rt.view, LinearLayout.LayoutParams(0, -2, 1f).apply { marginEnd = a.dp(12) })
        baris.addView(rw.view, LinearLayout.LayoutParams(0, -2, 1f))
        k.addView(baris)
        k.addView(pelapor.view)
        k.addView(hp.view)
        k.addView(a.tombol("Simpan", utama = true) { simpan() })
        a.kerja({ j -> j.pendaftaran() }) { d ->
            if (d != null && rw.nilai.isEmpty()) { rw.nilai = d.rw.toString(); d.rt?.let { rt.nilai = it.toString() } }
        }
        return a.gulir(k)
    }

    private fun simpan() {
        val kat = kategori.terpilih
        kategoriGalat.visibility = if (kat == null) View.VISIBLE else View.GONE
        if (kat == null) return
        val draft = ComplaintDraft(
            category = kat, topic = topik.nilai, text = isi.nilai,
            place = Place(rt = rt.nilai.toIntOrNull()?.toUShort() ?: 0u, rw = rw.nilai.toIntOrNull()?.toUShort() ?: 0u, description = tempat.nilai),
            reporter = pelapor.nilai.takeIf { it.isNotEmpty() }?.let { Reporter(it, hp.nilai.takeIf { p -> p.isNotEmpty() }) },
        )
        listOf(topik, isi, tempat, rt, rw, pelapor, hp).forEach { it.tampilkan(null) }
        Latar.kerjakan({ Jemput.buka(a).catatAduan(draft) }, { t ->
            if (t is uniffi.jemput.ApiException.Invalid) {
                for (i in t.issues) {
                    val f = when {
                        i.field.startsWith("topic") -> topik
                        i.field.startsWith("text") -> isi
                        i.field == "place.rt" -> rt
                        i.field.startsWith("place.rw") || i.field == "place" -> rw
                        i.field.startsWith("place") -> tempat
                        i.field.startsWith("reporter.phone") -> hp
                        i.field.startsWith("reporter") -> pelapor
                        else -> null
                    }
                    if (f != null) f.tampilkan(i.message) else a.galat(i.message)
                }
            } else a.galat(t)
        }) { rec ->
            k.removeAllViews()
            k.addView(a.teks("Tersimpan. Kode tanda terima:", 19f, bold = true, color = Warna.BAIK))
            k.tambahTandaTerima(rec.receipt)
            k.addView(a.tombol("Selesai", utama = true) { a.tutupLayar() })
            Sinkron.kirimSegera(a)
        }
    }
}
