package id.jemput.app

import android.content.Intent
import android.graphics.Bitmap
import android.graphics.Canvas
import android.os.Looper
import android.view.View
import android.view.ViewGroup
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.TextView
import java.io.File
import java.io.FileOutputStream
import java.security.KeyStore
import java.nio.file.Files
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import org.junit.Assert.assertTrue
import org.junit.After
import org.robolectric.Shadows.shadowOf
import org.junit.Before
import org.robolectric.Robolectric

import org.robolectric.android.controller.ActivityController

/**
 * What every test of the app shares: a live hub, the database key wrapped by [PembungkusUji] in
 * a temporary directory, and the activity under test; all closed after each test.
 */
abstract class UjiAplikasi {
    /** The kelurahan hub of this test. */
    protected lateinit var hub: HubHidup
    private lateinit var kunci: File
    /** The activity under test, once [buka] started it. */
    protected var ctl: ActivityController<MainActivity>? = null

    @Before
    fun siapkan() {
        hub = HubHidup()
        kunci = Files.createTempDirectory("jemput-kunci").toFile()
        Jemput.pembungkus = { PembungkusUji(kunci) }
    }

    @After
    fun bereskan() {
        ctl?.pause()?.stop()?.destroy()
        Jemput.tutup()
        hub.close()
        kunci.deleteRecursively()
    }

    /** Enrols a new officer of the hub by opening the app through the enrolment QR link (as the
     *  camera app does), checks the name and area shown, and goes on to the home screen. */
    protected fun bukaLewatQr(nama: String = "Bu Sri Wahyuni", rw: Int = 2, rt: Int = 3): Petugas {
        val (_, _, qr) = hub.petugasBaru(nama, rw, rt)
        val p = buka(Intent(Intent.ACTION_VIEW, android.net.Uri.parse(qr)))
        p.tungguTeks(nama)
        assertTrue(p.terlihat("RT %03d / RW %03d".format(rt, rw)))
        p.ketuk("Mulai")
        p.tunggu(60_000)
        return p
    }

    /** Starts the app (from [intent] when given, e.g. the QR link) and waits until it is idle. */
    protected fun buka(intent: Intent? = null): Petugas {
        val c = if (intent == null) Robolectric.buildActivity(MainActivity::class.java) else Robolectric.buildActivity(MainActivity::class.java, intent)
        ctl = c.setup()
        return Petugas(c.get()).also { it.tunggu() }
    }
}
/**
 * What the tests do as an officer would: tap what is written on the screen, type into the field
 * under a label, wait for the background work, and photograph the screen (480×800).
 */
class Petugas(private val a: MainActivity) {
    /** Taps so far (the SKTM test counts them). */
    var ketukan = 0

    /** Every view on screen, depth first. */
    fun semua(v: View = a.window.decorView): List<View> =
        if (v is ViewGroup) listOf(v) + (0 until v.childCount).flatMap { semua(v.getChildAt(it)) } else listOf(v)

    /** Visible texts on screen. */
    fun teks(): List<String> = semua().filter { it.isShown && it is TextView }.map { (it as TextView).text.toString() }

    /** True when some visible text contains [s]. */
    fun terlihat(s: String): Boolean = teks().any { it.contains(s) }

    /** Waits until background work is done and the main thread is idle. */
    fun tunggu(maksMs: Long = 30_000) {
        val batas = System.currentTimeMillis() + maksMs
        while (true) {
            shadowOf(Looper.getMainLooper()).idle()
            if (Latar.sibuk.get() == 0) {
                shadowOf(Looper.getMainLooper()).idle()
                if (Latar.sibuk.get() == 0) return
            }
            check(System.currentTimeMillis() < batas) { "pekerjaan latar tidak selesai dalam $maksMs ms" }
            Thread.sleep(10)
        }
    }

    /** Waits until [s] is visible. */
    fun tungguTeks(s: String, maksMs: Long = 30_000) {
        val batas = System.currentTimeMillis() + maksMs
        while (!terlihat(s)) {
            tunggu(maksMs)
            if (terlihat(s)) return
            check(System.currentTimeMillis() < batas) { "\"$s\" tidak muncul; di layar: ${teks()}" }
            Thread.sleep(20)
        }
    }

    /** Taps the visible clickable view whose text is [label] (or starts with it). */
    fun ketuk(label: String) {
        // A row of a list is tapped anywhere: the clickable view may be the text's container.
        fun dapatDiketuk(t: View): View? {
            var v: View? = t
            while (v != null && !v.isClickable) v = v.parent as? View
            return v
        }
        val teksSemua = semua().filter { it.isShown && it is TextView }.map { it as TextView }
        val v = teksSemua.firstOrNull { it.text.toString() == label && it.isClickable }
            ?: teksSemua.filter { it.text.toString() == label }.firstNotNullOfOrNull { dapatDiketuk(it) }
            ?: teksSemua.firstOrNull { it.text.toString().startsWith(label) && it.isClickable }
            ?: teksSemua.filter { it.text.toString().startsWith(label) }.firstNotNullOfOrNull { dapatDiketuk(it) }
            ?: error("tidak ada tombol \"$label\"; di layar: ${teks()}")
        ketukan++
        assertTrue(v.performClick())
        tunggu()
    }

    /** The field under the label [label] (or a label starting with it). */
    fun isian(label: String): EditText {
        val l = semua().firstOrNull { it.isShown && it is TextView && it !is EditText && it.text.toString() == label }
            ?: semua().firstOrNull { it.isShown && it is TextView && it !is EditText && it.text.toString().startsWith(label) }
            ?: error("tidak ada isian \"$label\"; di layar: ${teks()}")
        val p = l.parent as LinearLayout
        return p.getChildAt(p.indexOfChild(l) + 1) as EditText
    }

    /** Types [s] into the field under [label] (replacing what is there), as a keyboard does. */
    fun ketik(label: String, s: String) {
        val e = isian(label)
        e.requestFocus()
        e.setText("")
        for (ch in s) e.append(ch.toString())
        tunggu()
    }

    /** The error line under the field [label], or null when none shows. */
    fun galatDi(label: String): String? {
        val e = isian(label)
        val p = e.parent as LinearLayout
        val g = p.getChildAt(p.indexOfChild(e) + 1) as TextView
        return g.text.toString().takeIf { g.isShown && it.isNotEmpty() }
    }

    /** Draws the whole window into docs/screenshots/android/[nama].png (480×800). */
    fun foto(nama: String) {
        tunggu()
        val dir = File(System.getProperty("jemput.screenshots.dir") ?: "target/screenshots").apply { mkdirs() }
        val root = a.window.decorView
        root.measure(View.MeasureSpec.makeMeasureSpec(480, View.MeasureSpec.EXACTLY), View.MeasureSpec.makeMeasureSpec(800, View.MeasureSpec.EXACTLY))
        root.layout(0, 0, 480, 800)
        val bmp = Bitmap.createBitmap(480, 800, Bitmap.Config.ARGB_8888)
        root.draw(Canvas(bmp))
        FileOutputStream(File(dir, "$nama.png")).use { bmp.compress(Bitmap.CompressFormat.PNG, 100, it) }
    }
}

/**
 * A software key wrapper for the JVM, where the Android Keystore does not exist: AES-256-GCM with
 * a key held in a real PKCS#12 key store in a temporary file. The phone uses [KeystoreWrapper].
 */
class PembungkusUji(dir: File) : KeyWrapper {
    private val key: SecretKey

    init {
        val ksFile = File(dir, "uji.p12")
        val pass = "uji".toCharArray()
        val ks = KeyStore.getInstance("PKCS12")
        if (ksFile.exists()) {
            ksFile.inputStream().use { ks.load(it, pass) }
            key = ks.getKey("pembungkus", pass) as SecretKey
        } else {
            ks.load(null, pass)
            key = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
            ks.setEntry("pembungkus", KeyStore.SecretKeyEntry(key), KeyStore.PasswordProtection(pass))
            ksFile.outputStream().use { ks.store(it, pass) }
        }
    }

    override fun wrap(key: ByteArray): ByteArray {
        val iv = ByteArray(12).also { SecureRandom().nextBytes(it) }
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.ENCRYPT_MODE, this.key, GCMParameterSpec(128, iv))
        return byteArrayOf(1, 12) + iv + c.doFinal(key)
    }

    override fun unwrap(wrapped: ByteArray): ByteArray {
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, wrapped, 2, 12))
        return c.doFinal(wrapped, 14, wrapped.size - 14)
    }
}
