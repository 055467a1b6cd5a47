//! The app's single activity: a header with the screen's title and a back button, and the
//! current [Layar] (screen) below it. Screens are plain Kotlin objects on a back stack, built in
//! code, so the app has no XML layouts and no AndroidX. It also receives the hub's QR link
//! (`jemput://enroll?...`, opened by the phone's camera app) and the file picked for import.

package id.jemput.app

import android.app.Activity
import android.content.Intent
import android.graphics.Color
import android.os.Bundle
import android.view.Gravity
import android.view.View
import android.view.ViewGroup
import android.view.WindowManager
import android.widget.Button
import android.widget.FrameLayout
import android.widget.LinearLayout
import android.widget.TextView

/** One screen of the app. [tampil] builds its views; screens refresh themselves in [segarkan]. */
abstract class Layar(val a: MainActivity) {
    /** The title in the header. */
    abstract val judul: String

    /** Builds the screen's views (loads data through [Latar] and fills them in when it comes). */
    abstract fun tampil(): View

    /** Called when the data may have changed (after a sync, or when coming back to it). */
    open fun segarkan() {}

    /** The back button: true when the screen handled it itself (e.g. a previous step). */
    open fun kembali(): Boolean = false

    /** A file chosen by the officer for this screen arrived. */
    open fun hasilBerkas(data: Intent?) {}

    /** The officer answered the request for permission [izin] ([diberi]: allowed). */
    open fun hasilIzin(izin: String, diberi: Boolean) {}
}

/**
 * A screen that is one scrolling column filled from data loaded in the background: loaded when
 * shown and again on every [segarkan]; [isi] fills the emptied column.
 */
abstract class LayarMuat<T>(a: MainActivity) : Layar(a) {
    private lateinit var k: LinearLayout

    /** Loads what the screen shows (runs in the background). */
    protected abstract fun muat(j: Jemput): T

    /** Fills the column [k], emptied first, with [d]. */
    protected abstract fun isi(k: LinearLayout, d: T)

    override fun tampil(): View {
        k = a.kolom()
        segarkan()
        return a.gulir(k)
    }

    override fun segarkan() = a.kerja({ j -> muat(j) }) { gambar(it) }

    /** Shows [d] at once (e.g. what an action on the screen gave back). */
    protected fun gambar(d: T) {
        k.removeAllViews()
        isi(k, d)
    }
}

/** The one activity. */
class MainActivity : Activity(), Sinkron.Pengamat {
    private companion object {
        /** The request code of run-time permission requests. */
        const val KODE_IZIN = 7
    }

    private val tumpukan = ArrayList<Layar>()
    private lateinit var judul: TextView
    private lateinit var tombolKembali: Button
    private lateinit var isi: FrameLayout
    private lateinit var pesan: TextView
    private var jaringan: Sinkron.PantauJaringan? = null

    /** The screen on top. */
    val layar: Layar? get() = tumpukan.lastOrNull()

    override fun onCreate(savedInstanceState: Bundle?) {
        setTheme(android.R.style.Theme_Material_Light_NoActionBar)
        super.onCreate(savedInstanceState)
        window.setSoftInputMode(WindowManager.LayoutParams.SOFT_INPUT_ADJUST_RESIZE)
        window.statusBarColor = 0xFF004D40.toInt()
        val root = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL; setBackgroundColor(Color.WHITE) }
        val kepala = LinearLayout(this).apply {
            orientation = LinearLayout.HORIZONTAL
            gravity = Gravity.CENTER_VERTICAL
            setBackgroundColor(Warna.UTAMA)
            minimumHeight = dp(56)
            setPadding(dp(4), 0, dp(16), 0)
        }
        tombolKembali = Button(this).apply {
            text = "‹ Kembali"
            isAllCaps = false
            textSize = 17f
            setTextColor(Color.WHITE)
            background = null
            minHeight = dp(56)
            setOnClickListener { onBackPressed() }
        }
        judul = teks("", 21f, bold = true, color = Color.WHITE).apply { setPadding(dp(12), 0, 0, 0) }
        kepala.addView(tombolKembali)
        kepala.addView(judul)
        pesan = teks("", 17f, color = Color.WHITE).apply {
            setBackgroundColor(Warna.GALAT)
            setPadding(dp(16), dp(10), dp(16), dp(10))
            visibility = View.GONE
            setOnClickListener { visibility = View.GONE }
        }
        isi = FrameLayout(this)
        root.addView(kepala, ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT)
        root.addView(pesan, ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT)
        root.addView(isi, LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, 0, 1f))
        setContentView(root)
        mulaiLayar(intent)
    }

    /** The first screen: enrolment until the phone is enrolled, then home. Opening the store
     *  may take a moment (and may fail with a lost key): it happens in the background. */
    private fun mulaiLayar(intent: Intent?) {
        val qr = intent?.data?.takeIf { it.scheme == "jemput" }?.toString()
        Latar.kerjakan({ Jemput.buka(this).pendaftaran() }, { ganti(LayarGagalBuka(this, pesanGalat(it))) }) { daftar ->
            if (daftar == null || qr != null) {
                ganti(LayarPendaftaran(this, qr))
            } else {
                ganti(LayarBeranda(this))
                Sinkron.jadwalkan(this)
            }
        }
    }

    override fun onNewIntent(intent: Intent?) {
        super.onNewIntent(intent)
        if (intent?.data?.scheme == "jemput") {
            tumpukan.clear()
            mulaiLayar(intent)
        }
    }

    override fun onStart() {
        super.onStart()
        Sinkron.amati(this)
        jaringan = Sinkron.PantauJaringan(this).also { runCatching { it.pasang() } }
    }

    override fun onStop() {
        Sinkron.lepas(this)
        jaringan?.lepas()
        jaringan = null
        super.onStop()
    }

    /** Opens [l] on top of the current screen. */
    fun buka(l: Layar) {
        tumpukan.add(l)
        gambar()
    }

    /** Replaces the whole stack with [l] (e.g. home after enrolment). */
    fun ganti(l: Layar) {
        tumpukan.clear()
        buka(l)
    }

    /** Closes the top screen and refreshes the one below. */
    fun tutupLayar() {
        if (tumpukan.size > 1) {
            tumpukan.removeAt(tumpukan.size - 1)
            gambar()
            layar?.segarkan()
        }
    }

    private fun gambar() {
        val l = layar ?: return
        pesan.visibility = View.GONE
        judul.text = l.judul
        tombolKembali.visibility = if (tumpukan.size > 1) View.VISIBLE else View.GONE
        judul.setPadding(if (tumpukan.size > 1) 0 else dp(12), 0, 0, 0)
        isi.removeAllViews()
        isi.addView(l.tampil(), ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.MATCH_PARENT)
    }

    /** Updates the header title (a step of a multi-step screen). */
    fun setJudul(s: String) {
        judul.text = s
    }

    /** Shows a failure in the red strip under the header (tap to hide). */
    fun galat(t: Throwable) = galat(pesanGalat(t))

    /** Shows a sentence in the red strip under the header. */
    fun galat(s: String) {
        pesan.text = s
        pesan.visibility = View.VISIBLE
    }

    /** Runs [task] in the background; failures go to the red strip. */
    fun <T> kerja(task: (Jemput) -> T, ok: (T) -> Unit) {
        Latar.kerjakan({ task(Jemput.buka(this)) }, { galat(it) }, ok)
    }

    @Deprecated("Deprecated in Java")
    override fun onBackPressed() {
        val l = layar
        if (l != null && l.kembali()) return
        if (tumpukan.size > 1) tutupLayar() else @Suppress("DEPRECATION") super.onBackPressed()
    }

    @Deprecated("Deprecated in Java")
    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        @Suppress("DEPRECATION") super.onActivityResult(requestCode, resultCode, data)
        if (resultCode == RESULT_OK) layar?.hasilBerkas(data)
    }

    /** Asks the officer for a run-time permission (Android 6 and up); the answer goes to the
     *  screen on top through [Layar.hasilIzin]. */
    fun mintaIzin(izin: String) {
        if (android.os.Build.VERSION.SDK_INT >= 23) requestPermissions(arrayOf(izin), KODE_IZIN)
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        super.onRequestPermissionsResult(requestCode, permissions, grantResults)
        if (requestCode != KODE_IZIN) return
        permissions.forEachIndexed { i, izin ->
            layar?.hasilIzin(izin, grantResults.getOrNull(i) == android.content.pm.PackageManager.PERMISSION_GRANTED)
        }
    }

    override fun kemajuan(p: Progress) {
        (layar as? Sinkron.Pengamat)?.kemajuan(p)
    }

    override fun selesai(hasil: SyncSummary?, galat: String?) {
        val l = layar
        if (l is Sinkron.Pengamat) l.selesai(hasil, galat) else l?.segarkan()
    }
}

/** Shown when the store cannot be opened (a lost or wrong key): says so, offers to retry. */
class LayarGagalBuka(a: MainActivity, private val sebab: String) : Layar(a) {
    override val judul = "Jemput"

    override fun tampil(): View = a.kolom().apply {
        addView(a.teks("Data di HP ini tidak dapat dibuka.", 22f, bold = true))
        addView(a.teks(sebab, 18f, color = Warna.GALAT))
        addView(a.teks("Tidak ada data yang dihapus. Coba lagi; bila tetap gagal, hubungi kantor kelurahan dan jangan hapus aplikasi ini.", 18f))
        addView(a.tombol("Coba lagi", utama = true) {
            Jemput.tutup()
            a.recreate()
        })
    }
}
