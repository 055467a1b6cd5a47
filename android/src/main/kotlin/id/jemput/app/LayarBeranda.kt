//! Screen 2, home: the sync health sentence and "Kirim sekarang" first (what waits to be sent),
//! letters ready to hand over, the main actions as large buttons, and the count of requests by
//! status.

package id.jemput.app

import android.view.Gravity
import android.view.View
import android.widget.LinearLayout
import android.widget.TextView
import uniffi.jemput.EnrolmentInfo
import uniffi.jemput.StatusCount

/** The home screen. */
class LayarBeranda(a: MainActivity) : Layar(a), Sinkron.Pengamat {
    override val judul = "Jemput"
    private lateinit var sapa: TextView
    private lateinit var kesehatan: TextView
    private lateinit var kemajuan: TextView
    private lateinit var siap: android.widget.Button
    private lateinit var jumlah: LinearLayout
    private lateinit var kartuKirim: LinearLayout

    override fun tampil(): View {
        val k = a.kolom()
        sapa = a.teks("", 18f, color = Warna.TEKS_PUDAR)
        k.addView(sapa)
        kartuKirim = a.kartu()
        kesehatan = a.teks("Memuat…", 20f, bold = true)
        kemajuan = a.teks("", 16f, color = Warna.TEKS_PUDAR).apply { visibility = View.GONE }
        kartuKirim.addView(kesehatan)
        kartuKirim.addView(kemajuan)
        kartuKirim.addView(a.tombol("Kirim sekarang") { kirim() })
        k.addView(kartuKirim)
        siap = a.tombol("Surat siap diserahkan", warna = Warna.SURAT_SIAP) {
            a.buka(LayarDaftar(a, Status.SELESAI))
        }.apply { visibility = View.GONE }
        k.addView(siap)
        k.addView(a.tombol("+ Permohonan surat baru", utama = true) { a.buka(LayarPermohonanBaru(a)) })
        k.addView(a.tombol("Daftar permohonan") { a.buka(LayarDaftar(a, null)) })
        k.addView(a.tombol("Pengaduan & aspirasi") { a.buka(LayarAduan(a)) })
        k.addView(a.tombol("Layanan & syarat") { a.buka(LayarLayanan(a)) })
        k.addView(a.tombol("Info kelurahan") { a.buka(LayarInfo(a)) })
        k.addView(a.tombol("Kirim tanpa sinyal") { a.buka(LayarSerah(a)) })
        k.addView(a.teks("Permohonan menurut status", 18f, bold = true).apply { setPadding(0, a.dp(16), 0, 0) })
        jumlah = LinearLayout(a).apply { orientation = LinearLayout.VERTICAL }
        k.addView(jumlah)
        segarkan()
        return a.gulir(k)
    }

    private class Data(val daftar: EnrolmentInfo?, val sehat: SyncHealth, val jumlah: List<StatusCount>)

    override fun segarkan() {
        a.kerja({ j -> Data(j.pendaftaran(), j.kesehatan(), j.jumlahPerStatus()) }) { d ->
            d.daftar?.let { sapa.text = "${it.officerName} · ${Teks.rtRw(it.rt?.toInt(), it.rw.toInt())}" }
            val tunggu = d.sehat.unsentRequests.toInt() + d.sehat.unsentComplaints.toInt()
            kesehatan.text = d.sehat.summary
            kesehatan.setTextColor(if (tunggu == 0 && d.sehat.refused.toInt() == 0) Warna.BAIK else Warna.PERINGATAN)
            kartuKirim.background = a.latar(if (tunggu == 0) Warna.KARTU else Warna.PERINGATAN_LATAR)
            if (!Sinkron.sedangBerjalan) {
                val g = Sinkron.galatTerakhir
                kemajuan.text = g ?: ""
                kemajuan.visibility = if (g == null) View.GONE else View.VISIBLE
            }
            val selesai = d.jumlah.firstOrNull { it.status == Status.SELESAI }?.count?.toLong() ?: 0
            siap.text = "Surat siap diserahkan: $selesai"
            siap.visibility = if (selesai > 0) View.VISIBLE else View.GONE
            jumlah.removeAllViews()
            for (c in d.jumlah) {
                if (c.count.toLong() == 0L) continue
                val row = LinearLayout(a).apply {
                    orientation = LinearLayout.HORIZONTAL
                    gravity = Gravity.CENTER_VERTICAL
                    minimumHeight = a.dp(48)
                    setOnClickListener { a.buka(LayarDaftar(a, c.status)) }
                }
                row.addView(a.teks(Teks.status(c.status), 18f), LinearLayout.LayoutParams(0, -2, 1f))
                row.addView(a.teks(c.count.toString(), 20f, bold = true, color = Teks.warnaStatus(c.status)))
                jumlah.addView(row)
            }
            if (jumlah.childCount == 0) jumlah.addView(a.teks("Belum ada permohonan.", 18f, color = Warna.TEKS_PUDAR))
        }
    }

    private fun kirim() {
        if (!Sinkron.mulai(a)) return
        kemajuan.text = "Mengirim…"
        kemajuan.visibility = View.VISIBLE
    }

    override fun kemajuan(p: Progress) {
        kemajuan.visibility = View.VISIBLE
        kemajuan.text = if (p.done) "Selesai dikirim." else "Mengirim… ${p.docsSent} terkirim, ${p.docsWaiting} menunggu"
    }

    override fun selesai(hasil: SyncSummary?, galat: String?) {
        kemajuan.visibility = View.VISIBLE
        kemajuan.text = galat ?: hasil?.let { h ->
            val kabar = h.report.statusChanges.size
            "Terkirim ${h.report.confirmed}, kabar baru dari kantor $kabar."
        } ?: ""
        segarkan()
    }
}
