//! Screen 3, services: the kelurahan's catalog with each service's requirements, from the store
//! (offline) — what residents ask on WhatsApp today ("syaratnya apa saja?").

package id.jemput.app

import android.view.View
import android.widget.LinearLayout

/** The service catalog with requirements. */
class LayarLayanan(a: MainActivity) : Layar(a) {
    override val judul = "Layanan & syarat"

    override fun tampil(): View {
        val k = a.kolom()
        k.addView(a.teks("Syarat yang perlu dibawa warga untuk tiap surat. Bisa dibuka tanpa sinyal.", 17f, color = Warna.TEKS_PUDAR))
        val list = LinearLayout(a).apply { orientation = LinearLayout.VERTICAL }
        k.addView(list)
        a.kerja({ j -> j.katalog() }) { cat ->
            for (s in cat.services.filter { it.active }) {
                val c = a.kartu()
                c.addView(a.teks(s.name, 20f, bold = true))
                if (s.description.isNotBlank()) c.addView(a.teks(s.description, 16f, color = Warna.TEKS_PUDAR))
                c.addView(a.teks("Syarat:", 17f, bold = true).apply { setPadding(0, a.dp(6), 0, 0) })
                for (r in s.requirements) {
                    c.addView(a.teks("•  " + r.label + if (r.mandatory) "" else " (bila ada)", 17f))
                }
                if (s.needsRtRwEndorsement) c.addView(a.teks("•  Surat pengantar RT/RW (dicatat di Jemput)", 17f))
                c.addView(a.teks("Perkiraan selesai: ${s.processingDays} hari kerja", 16f, color = Warna.TEKS_PUDAR).apply { setPadding(0, a.dp(6), 0, 0) })
                list.addView(c)
            }
        }
        return a.gulir(k)
    }
}
