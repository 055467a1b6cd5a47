//! Screen 5, requests: the list with status filters and a search by name or receipt code, and
//! each request's detail with its history and the office's reason; a finished letter is marked
//! handed over (diserahkan) here.

package id.jemput.app

import android.text.InputType
import android.view.Gravity
import android.view.View
import android.widget.HorizontalScrollView
import android.widget.LinearLayout
import android.widget.TextView
import uniffi.jemput.RequestDetail
import uniffi.jemput.checkReceiptCode
import uniffi.jemput.normalizeReceiptCode

/** The list of requests, filtered by [awal] status at first. */
class LayarDaftar(a: MainActivity, private val awal: Status?) : Layar(a) {
    override val judul = "Daftar permohonan"
    private var status: Status? = awal
    private var terbuka = false
    private lateinit var cari: Isian
    private lateinit var jumlah: TextView
    private lateinit var daftar: LinearLayout
    private lateinit var saring: Pilihan<String>
    private var halaman = 0
    private val perHalaman = 30
    /** Service names by code, read from the catalog once (not on every letter typed). */
    private var namaLayanan: Map<String, String>? = null

    private val pilihan = listOf(
        "semua" to "Semua", "belum" to "Belum terkirim", "proses" to "Masih proses",
        "kurang" to "Perlu kelengkapan", "siap" to "Surat siap", "diserahkan" to "Diserahkan", "tolak" to "Ditolak",
    )

    override fun tampil(): View {
        val k = a.kolom()
        cari = Isian(a, "Cari nama atau kode tanda terima", "contoh: Siti, atau K7QM-…", InputType.TYPE_CLASS_TEXT)
        cari.saatBerubah { muat() }
        k.addView(cari.view)
        saring = Pilihan(a, pilihan) { v ->
            terbuka = v == "proses"
            status = when (v) {
                "belum" -> Status.DICATAT
                "kurang" -> Status.PERLU_KELENGKAPAN
                "siap" -> Status.SELESAI
                "diserahkan" -> Status.DISERAHKAN
                "tolak" -> Status.DITOLAK
                else -> null
            }
            muat()
        }
        for (i in 0 until saring.view.childCount) {
            saring.view.getChildAt(i).layoutParams = LinearLayout.LayoutParams(-2, -2).apply { marginEnd = a.dp(8); topMargin = a.dp(6) }
            saring.view.getChildAt(i).setPadding(a.dp(14), 0, a.dp(14), 0)
        }
        saring.pilih(
            when (awal) {
                Status.DICATAT -> "belum"; Status.PERLU_KELENGKAPAN -> "kurang"; Status.SELESAI -> "siap"
                Status.DISERAHKAN -> "diserahkan"; Status.DITOLAK -> "tolak"; null -> "semua"; else -> null
            },
        )
        k.addView(HorizontalScrollView(a).apply { isHorizontalScrollBarEnabled = false; addView(saring.view) })
        jumlah = a.teks("", 17f, color = Warna.TEKS_PUDAR).apply { setPadding(0, a.dp(8), 0, 0) }
        k.addView(jumlah)
        daftar = LinearLayout(a).apply { orientation = LinearLayout.VERTICAL }
        k.addView(daftar)
        muat()
        return a.gulir(k)
    }

    override fun segarkan() {
        namaLayanan = null // a sync may have brought a changed catalog
        muat()
    }

    private fun filter(): RequestFilter {
        val q = cari.nilai
        // A complete receipt code (any case, spaces or dashes) searches by code, else by name.
        val kode = if (q.isNotEmpty() && checkReceiptCode(q)) normalizeReceiptCode(q) else null
        return RequestFilter(
            status = status, openOnly = terbuka, rw = null, rt = null, serviceCode = null,
            name = q.takeIf { it.isNotEmpty() && kode == null }, receipt = kode,
        )
    }

    private fun muat(tambah: Boolean = false) {
        val f = filter()
        halaman = if (tambah) halaman + 1 else 0
        val dari = halaman * perHalaman
        val dikenal = namaLayanan
        a.kerja({ j -> Triple(j.hitung(f), j.daftar(f, dari, perHalaman), dikenal ?: j.katalog().services.associate { it.code to it.name }) }) { (n, rows, nama) ->
            namaLayanan = nama
            if (f != filter()) return@kerja // the officer typed on; a newer load follows
            jumlah.text = "$n permohonan"
            if (!tambah) daftar.removeAllViews() else daftar.removeViewAt(daftar.childCount - 1)
            rows.forEach { daftar.addView(baris(it, nama[it.serviceCode] ?: it.serviceCode)) }
            if (n == 0L) daftar.addView(a.teks("Tidak ada permohonan yang cocok.", 18f, color = Warna.TEKS_PUDAR).apply { setPadding(0, a.dp(12), 0, 0) })
            if (dari + rows.size < n) daftar.addView(a.tombol("Tampilkan lebih banyak") { muat(tambah = true) })
        }
    }

    private fun baris(r: RequestSummary, layanan: String): View = a.kartu().apply {
        minimumHeight = a.dp(64)
        setOnClickListener { a.buka(LayarRincian(a, r.id)) }
        val atas = LinearLayout(a).apply { orientation = LinearLayout.HORIZONTAL; gravity = Gravity.CENTER_VERTICAL }
        atas.addView(a.teks(r.applicantName, 19f, bold = true), LinearLayout.LayoutParams(0, -2, 1f))
        atas.addView(a.lencana(Teks.status(r.status), Teks.warnaStatus(r.status)))
        addView(atas)
        addView(a.teks(layanan, 17f))
        addView(a.teks("${r.receipt} · ${Teks.rtRw(r.rt.toInt(), r.rw.toInt())}", 16f, color = Warna.TEKS_PUDAR))
    }
}

/** A request: status with the office's reason, history, and "handed over". */
class LayarRincian(a: MainActivity, private val id: String) : LayarMuat<Pair<RequestDetail, String?>>(a) {
    override val judul = "Rincian permohonan"

    /** The request and the name of its service. */
    override fun muat(j: Jemput): Pair<RequestDetail, String?> {
        val d = j.permohonan(id)
        return d to j.katalog().services.firstOrNull { it.code == d.request.serviceCode }?.name
    }

    override fun isi(k: LinearLayout, d: Pair<RequestDetail, String?>) {
        val (detail, layanan) = d
        val r = detail.request
        k.addView(a.teks(layanan ?: r.serviceCode, 20f, bold = true))
        k.addView(a.kode(r.receipt, 26f))
        k.addView(a.teks(r.applicant.name, 19f))
        k.addView(a.teks("NIK " + Teks.nikSamar(r.applicant.nik), 17f, color = Warna.TEKS_PUDAR))
        val st = a.kartu()
        st.addView(a.lencana(Teks.status(detail.status), Teks.warnaStatus(detail.status)).apply { layoutParams = LinearLayout.LayoutParams(-2, -2) })
        detail.statusReason?.let { st.addView(a.teks("Alasan dari kantor: $it", 18f)) }
        r.office.letterNumber?.let { st.addView(a.teks("Nomor surat: $it", 17f)) }
        detail.refusal?.let { st.addView(a.teks(it.message, 17f, color = Warna.GALAT)) }
        k.addView(st)
        // The officer's own step, when the request waits for one.
        val langkah: Pair<String, (Jemput, String) -> RequestDetail>? = when (detail.status) {
            Status.PERLU_KELENGKAPAN -> "Dokumen kurang sudah dilengkapi" to Jemput::dilengkapi
            Status.SELESAI -> "Surat sudah diserahkan ke warga" to Jemput::serahkan
            else -> null
        }
        langkah?.let { (label, aksi) ->
            k.addView(a.tombol(label, utama = true) {
                a.kerja({ j -> aksi(j, id) }) { baru ->
                    gambar(baru to layanan)
                    Sinkron.kirimSegera(a)
                }
            })
        }
        k.addView(a.teks("Riwayat", 18f, bold = true).apply { setPadding(0, a.dp(14), 0, 0) })
        for (h in r.history.reversed()) {
            val row = a.kolom(4)
            row.addView(a.teks(Teks.status(h.status), 18f, bold = true, color = Teks.warnaStatus(h.status)))
            row.addView(a.teks("${Teks.waktu(h.at)} · oleh ${Teks.peran(h.by.role)}", 16f, color = Warna.TEKS_PUDAR))
            h.reason?.let { row.addView(a.teks(it, 17f)) }
            k.addView(row)
        }
    }
}
