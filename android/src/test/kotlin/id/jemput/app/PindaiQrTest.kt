package id.jemput.app

import android.Manifest
import android.content.pm.PackageManager
import android.hardware.Camera
import android.view.SurfaceView
import com.google.zxing.BarcodeFormat
import com.google.zxing.EncodeHintType
import com.google.zxing.qrcode.QRCodeWriter
import java.util.Random
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode
import org.robolectric.shadows.ShadowCamera

/** The in-app QR scanner: frames read by the real ZXing reader, the camera permission asked and
 *  refused, and an officer enrolled by scanning the hub's own QR against a live hub. */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], qualifiers = "w320dp-h533dp-hdpi")
@GraphicsMode(GraphicsMode.Mode.NATIVE)
@Suppress("DEPRECATION")
class PindaiQrTest : UjiAplikasi() {
    /**
     * A camera frame ([w]×[h] NV21) showing a QR code of [teks] as a phone held at arm's length
     * sees it: off centre, 3 pixels a module, grey paper and dark print rather than pure white
     * and black, and sensor noise.
     */
    private fun bingkai(teks: String, w: Int, h: Int, acak: Random = Random(7)): ByteArray {
        val qr = QRCodeWriter().encode(teks, BarcodeFormat.QR_CODE, 0, 0, mapOf(EncodeHintType.MARGIN to 0))
        val skala = 3
        val y = ByteArray(w * h * 3 / 2) { 128.toByte() }
        val x0 = w / 2 - qr.width * skala / 2 + 17
        val y0 = h / 2 - qr.height * skala / 2 - 11
        for (py in 0 until h) for (px in 0 until w) {
            val mx = (px - x0) / skala
            val my = (py - y0) / skala
            val gelap = px >= x0 && py >= y0 && mx < qr.width && my < qr.height && qr[mx, my]
            val dasar = if (gelap) 40 else 190
            y[py * w + px] = (dasar + acak.nextInt(31) - 15).coerceIn(0, 255).toByte()
        }
        return y
    }

    @Test
    fun pembacaQrMembacaBingkaiKamera() {
        val kode = "jemput://enroll?hub=https%3A%2F%2Fhub.balongsari.go.id&code=K7QM-2345&sha256=" + "ab".repeat(32)
        assertEquals(kode, PembacaQr.baca(bingkai(kode, 640, 480), 640, 480))
        assertTrue(PembacaQr.kodePendaftaran(kode))
        assertEquals("https://contoh.go.id", PembacaQr.baca(bingkai("https://contoh.go.id", 320, 240), 320, 240))
        assertTrue(!PembacaQr.kodePendaftaran("https://contoh.go.id"))
        // Nothing in view, noise, a frame shorter than its size says, a frame too large: no code,
        // and never an exception.
        assertNull(PembacaQr.baca(ByteArray(640 * 480 * 3 / 2) { 120 }, 640, 480))
        assertNull(PembacaQr.baca(ByteArray(640 * 480 * 3 / 2).also { Random(3).nextBytes(it) }, 640, 480))
        assertNull(PembacaQr.baca(ByteArray(100), 640, 480))
        assertNull(PembacaQr.baca(ByteArray(16), 1920 * 2, 1080 * 2))
        assertNull(PembacaQr.baca(ByteArray(16), -4, 4))
    }

    @Test
    fun izinKameraDitolakLaluKetikKode() {
        ShadowCamera.addCameraInfo(0, Camera.CameraInfo().apply { facing = Camera.CameraInfo.CAMERA_FACING_BACK; orientation = 90 })
        val p = buka()
        p.ketuk("Pindai kode QR")
        val a = ctl!!.get()
        assertTrue(shadowOf(a).lastRequestedPermission.requestedPermissions.contains(Manifest.permission.CAMERA))
        assertTrue(p.terlihat("Jemput perlu izin memakai kamera"))
        a.onRequestPermissionsResult(7, arrayOf(Manifest.permission.CAMERA), intArrayOf(PackageManager.PERMISSION_DENIED))
        p.tunggu()
        p.tungguTeks("Izin kamera tidak diberikan.")
        p.foto("1d-izin-kamera-ditolak")
        p.ketuk("Ketik kode saja")
        assertTrue(p.terlihat("Atau ketik kode pendaftaran:"))
    }

    @Test
    fun pindaiQrDariKantorLaluTerdaftar() {
        val (_, _, qr) = hub.petugasBaru("Pak Slamet Riyadi", 3, 1)
        ShadowCamera.addCameraInfo(0, Camera.CameraInfo().apply { facing = Camera.CameraInfo.CAMERA_FACING_BACK; orientation = 90 })
        shadowOf(RuntimeEnvironment.getApplication()).grantPermissions(Manifest.permission.CAMERA)
        val p = buka()
        p.ketuk("Pindai kode QR")
        val a = ctl!!.get()
        val layar = a.layar as LayarPindaiQr
        // The preview's surface appears (on a phone, when the screen is drawn): the camera opens.
        val sv = p.semua().first { it is SurfaceView } as SurfaceView
        val holder = shadowOf(sv).fakeSurfaceHolder
        holder.callbacks.toList().forEach { it.surfaceCreated(holder) }
        val cam = layar.kamera ?: error("kamera tidak terbuka; di layar: ${p.teks()}")
        val (w, h) = layar.ukuran!!
        assertTrue(shadowOf(cam).isPreviewing)
        p.foto("1c-pindai-qr")
        // Another QR code (a web address on a poster): said, and scanning goes on.
        shadowOf(cam).invokePreviewCallback(bingkai("https://contoh.go.id", w, h))
        p.tungguTeks("bukan kode pendaftaran Jemput")
        assertTrue(a.layar is LayarPindaiQr)
        // Frames are read at most every 150 ms (the app's clock, which the test moves on).
        shadowOf(android.os.Looper.getMainLooper()).idleFor(java.time.Duration.ofMillis(200))
        // The office's QR: the phone enrols with the live hub, and the camera is let go.
        shadowOf(cam).invokePreviewCallback(bingkai(qr, w, h))
        p.tungguTeks("Pak Slamet Riyadi")
        assertTrue(p.terlihat("RT 001 / RW 003"))
        assertTrue(shadowOf(cam).isReleased)
    }
}
