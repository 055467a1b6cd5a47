//! Screen 8, hand-off without signal: export what the hub has not received as a `.jemput` file
//! through the share sheet (Bluetooth, a cable, WhatsApp when a colleague has signal…), and
//! import a colleague's file, which this phone forwards at its next sync. The file is encrypted
//! by the library; it is served to the receiving app by [BerkasProvider].

package id.jemput.app

import android.content.ContentProvider
import android.content.ContentValues
import android.content.Intent
import android.database.Cursor
import android.database.MatrixCursor
import android.net.Uri
import android.os.ParcelFileDescriptor
import android.provider.OpenableColumns
import android.view.View
import android.widget.LinearLayout
import android.widget.TextView
import java.io.File
import java.text.SimpleDateFormat
import java.util.Date
import java.util.Locale

/** Export and import of no-signal bundles. */
class LayarSerah(a: MainActivity) : Layar(a) {
    override val judul = "Kirim tanpa sinyal"
    private lateinit var statusEkspor: TextView
    private lateinit var statusImpor: TextView
    private lateinit var titipan: TextView

    /** The last exported file (tests read it). */
    var berkasTerakhir: File? = null
        private set

    override fun tampil(): View {
        val k: LinearLayout = a.kolom()
        k.addView(a.teks("Tidak ada sinyal? Kirim data lewat HP lain.", 20f, bold = true))
        k.addView(a.teks("1. Bagikan berkas ke rekan yang punya sinyal (Bluetooth, kabel, atau aplikasi pesan). Berkas terkunci; hanya kantor kelurahan yang bisa membukanya.", 18f))
        k.addView(a.tombol("Bagikan berkas data", utama = true) { ekspor() })
        // Each result appears right under the button that made it (on a 480×800 screen a line
        // at the bottom of the page is out of sight), and is scrolled into view.
        statusEkspor = a.teks("", 18f, color = Warna.BAIK).apply { visibility = View.GONE }
        k.addView(statusEkspor)
        k.addView(a.garis())
        k.addView(a.teks("2. Menerima berkas dari rekan? Terima di sini; HP ini meneruskannya ke kantor saat ada sinyal.", 18f))
        k.addView(a.tombol("Terima berkas dari rekan") { pilihBerkas() })
        statusImpor = a.teks("", 18f, color = Warna.BAIK).apply { visibility = View.GONE }
        titipan = a.teks("", 17f, color = Warna.TEKS_PUDAR)
        k.addView(statusImpor)
        k.addView(titipan)
        segarkan()
        return a.gulir(k)
    }

    override fun segarkan() {
        a.kerja({ j -> j.titipan() }) { n ->
            titipan.text = if (n > 0u) "Berkas rekan yang menunggu diteruskan: $n" else ""
        }
    }

    private fun ekspor() {
        a.kerja({ j ->
            val dir = File(a.cacheDir, "bundel").apply { mkdirs() }
            dir.listFiles()?.forEach { it.delete() }
            val nama = "jemput-" + SimpleDateFormat("yyyyMMdd-HHmm", Locale.ROOT).format(Date()) + ".jemput"
            File(dir, nama).apply { writeBytes(j.eksporBundel()) }
        }) { f ->
            berkasTerakhir = f
            kabari(statusEkspor, "✓ Berkas siap: ${f.name} (${(f.length() + 1023) / 1024} KB)")
            val uri = Uri.parse("content://${a.packageName}.berkas/${f.name}")
            val kirim = Intent(Intent.ACTION_SEND).apply {
                type = "application/octet-stream"
                putExtra(Intent.EXTRA_STREAM, uri)
                addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
            }
            runCatching { a.startActivity(Intent.createChooser(kirim, "Bagikan berkas Jemput")) }
                .onFailure { a.galat("Tidak ada aplikasi untuk membagikan berkas.") }
        }
    }

    /** Shows [pesan] in [v] and scrolls the page so that it (and what follows it) is in sight. */
    private fun kabari(v: TextView, pesan: String) {
        v.text = pesan
        v.visibility = View.VISIBLE
        v.gulirKeSini()
    }

    private fun pilihBerkas() {
        val pilih = Intent(Intent.ACTION_OPEN_DOCUMENT).apply {
            addCategory(Intent.CATEGORY_OPENABLE)
            type = "*/*"
        }
        @Suppress("DEPRECATION")
        runCatching { a.startActivityForResult(pilih, 7) }.onFailure { a.galat("Tidak ada aplikasi untuk memilih berkas.") }
    }

    override fun hasilBerkas(data: Intent?) {
        val uri = data?.data ?: return
        a.kerja({ j ->
            val bytes = a.contentResolver.openInputStream(uri)?.use { s ->
                // A bundle is at most a few MiB; refuse anything absurdly large before reading it all.
                val buf = s.readNBytesCompat(16 * 1024 * 1024 + 1)
                require(buf.size <= 16 * 1024 * 1024) { "berkas terlalu besar" }
                buf
            } ?: error("berkas tidak terbaca")
            j.imporBundel(bytes)
        }) { n ->
            titipan.text = "Berkas rekan yang menunggu diteruskan: $n"
            kabari(statusImpor, "✓ Berkas diterima. Akan diteruskan ke kantor saat ada sinyal.")
            Sinkron.jadwalkan(a)
        }
    }
}

/** Reads at most [max] bytes (InputStream.readNBytes is API 33+). */
private fun java.io.InputStream.readNBytesCompat(max: Int): ByteArray {
    val out = java.io.ByteArrayOutputStream()
    val buf = ByteArray(64 * 1024)
    while (out.size() < max) {
        val n = read(buf, 0, minOf(buf.size, max - out.size()))
        if (n < 0) break
        out.write(buf, 0, n)
    }
    return out.toByteArray()
}

/**
 * Serves exported bundles (and only them) to the app the officer shares with, read-only, by a
 * temporary URI grant; framework-only stand-in for AndroidX's FileProvider.
 */
class BerkasProvider : ContentProvider() {
    private fun berkas(uri: Uri): File? {
        val name = uri.lastPathSegment ?: return null
        if (!name.matches(Regex("jemput-[0-9-]+\\.jemput"))) return null
        return File(File(context!!.cacheDir, "bundel"), name).takeIf { it.isFile }
    }

    override fun onCreate(): Boolean = true

    override fun getType(uri: Uri): String = "application/octet-stream"

    override fun openFile(uri: Uri, mode: String): ParcelFileDescriptor {
        if (mode != "r") throw SecurityException("hanya baca")
        val f = berkas(uri) ?: throw java.io.FileNotFoundException(uri.lastPathSegment)
        return ParcelFileDescriptor.open(f, ParcelFileDescriptor.MODE_READ_ONLY)
    }

    override fun query(uri: Uri, projection: Array<out String>?, selection: String?, args: Array<out String>?, sort: String?): Cursor? {
        val f = berkas(uri) ?: return null
        return MatrixCursor(arrayOf(OpenableColumns.DISPLAY_NAME, OpenableColumns.SIZE)).apply { addRow(arrayOf<Any>(f.name, f.length())) }
    }

    override fun insert(uri: Uri, values: ContentValues?): Uri? = null
    override fun delete(uri: Uri, selection: String?, args: Array<out String>?): Int = 0
    override fun update(uri: Uri, values: ContentValues?, selection: String?, args: Array<out String>?): Int = 0
}
