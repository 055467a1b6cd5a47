//! Scanning the enrolment QR inside the app: the camera's preview fills the screen, each frame
//! is read for a QR code in the background ([PembacaQr]), and when the kelurahan's enrolment
//! code is seen the phone enrols at once (the same path as the `jemput://enroll` link a camera
//! app opens). Uses the framework's `android.hardware.Camera` (API 21 and up, no AndroidX): the
//! camera is opened when the preview's surface appears and released when it goes (the screen
//! is left, or the app goes to the background), so other apps get it back.

package id.jemput.app

import android.Manifest
import android.content.pm.PackageManager
import android.graphics.Canvas
import android.graphics.Color
import android.graphics.Paint
import android.hardware.Camera
import android.os.Build
import android.os.SystemClock
import android.view.Surface
import android.view.SurfaceHolder
import android.view.SurfaceView
import android.view.View
import android.view.ViewGroup
import android.widget.FrameLayout
import android.widget.LinearLayout
import android.widget.TextView

/** The in-app QR scanner of screen 1 (enrolment). */
@Suppress("DEPRECATION") // android.hardware.Camera: the camera API that works from API 21 without AndroidX.
class LayarPindaiQr(a: MainActivity) : Layar(a), SurfaceHolder.Callback, Camera.PreviewCallback {
    override val judul = "Pindai kode QR"
    private lateinit var wadah: FrameLayout
    private lateinit var keterangan: TextView

    /** The open camera, while the preview shows (tests reach it to hand it frames). */
    internal var kamera: Camera? = null
        private set
    /** The preview's width and height in the camera's own orientation (the frame's layout). */
    internal var ukuran: Pair<Int, Int>? = null
        private set
    private var sedangMembaca = false
    private var terakhirDibaca = 0L
    private var selesai = false

    override fun tampil(): View {
        wadah = FrameLayout(a)
        keterangan = a.teks("Arahkan kamera ke kode QR pendaftaran dari kantor kelurahan. Pegang HP tetap sampai terbaca.", 18f, color = Color.WHITE).apply {
            setBackgroundColor(0xCC000000.toInt())
            setPadding(a.dp(16), a.dp(12), a.dp(16), a.dp(12))
        }
        if (bolehKamera()) pratinjau() else mintaIzin()
        return wadah
    }

    private fun bolehKamera(): Boolean =
        Build.VERSION.SDK_INT < 23 || a.checkSelfPermission(Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED

    /** Explains why the camera is needed and asks for it (Android 6 and up ask at run time). */
    private fun mintaIzin() {
        wadah.removeAllViews()
        val k = a.kolom()
        k.addView(a.teks("Jemput perlu izin memakai kamera untuk membaca kode QR pendaftaran.", 20f, bold = true))
        k.addView(a.teks("Kamera hanya dipakai di layar ini dan tidak menyimpan foto.", 18f, color = Warna.TEKS_PUDAR))
        k.addView(a.tombol("Izinkan kamera", utama = true) { a.mintaIzin(Manifest.permission.CAMERA) })
        k.addView(a.tombol("Ketik kode saja") { a.tutupLayar() })
        wadah.addView(a.gulir(k))
        if (Build.VERSION.SDK_INT >= 23) a.mintaIzin(Manifest.permission.CAMERA)
    }

    override fun hasilIzin(izin: String, diberi: Boolean) {
        if (izin != Manifest.permission.CAMERA) return
        if (diberi) {
            pratinjau()
        } else {
            wadah.removeAllViews()
            val k = a.kolom()
            k.addView(a.teks("Izin kamera tidak diberikan.", 20f, bold = true, color = Warna.GALAT))
            k.addView(a.teks("Ketik alamat hub dan kode pendaftaran di layar sebelumnya, atau izinkan kamera untuk Jemput di Setelan HP.", 18f))
            k.addView(a.tombol("Ketik kode saja", utama = true) { a.tutupLayar() })
            wadah.addView(a.gulir(k))
        }
    }

    /** The camera's picture with the aiming frame and the instruction over it. */
    private fun pratinjau() {
        wadah.removeAllViews()
        wadah.setBackgroundColor(Color.BLACK)
        val layar = SurfaceView(a)
        layar.holder.addCallback(this)
        wadah.addView(layar, FrameLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.MATCH_PARENT))
        // Over the picture: the aiming square in the space above the instruction and the button.
        val atas = LinearLayout(a).apply { orientation = LinearLayout.VERTICAL }
        atas.addView(Bidik(a), LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, 0, 1f))
        (keterangan.parent as? ViewGroup)?.removeView(keterangan)
        atas.addView(keterangan)
        atas.addView(a.tombol("Ketik kode saja") { a.tutupLayar() }.apply {
            (layoutParams as LinearLayout.LayoutParams).setMargins(a.dp(16), a.dp(8), a.dp(16), a.dp(16))
        })
        wadah.addView(atas, FrameLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.MATCH_PARENT))
        // Leaving the screen detaches the preview: the camera goes back at once.
        layar.addOnAttachStateChangeListener(object : View.OnAttachStateChangeListener {
            override fun onViewAttachedToWindow(v: View) {}
            override fun onViewDetachedFromWindow(v: View) = lepasKamera()
        })
    }

    override fun surfaceCreated(holder: SurfaceHolder) {
        if (kamera != null || selesai) return
        val id = (0 until Camera.getNumberOfCameras()).firstOrNull { i ->
            Camera.CameraInfo().also { Camera.getCameraInfo(i, it) }.facing == Camera.CameraInfo.CAMERA_FACING_BACK
        } ?: (0 until Camera.getNumberOfCameras()).firstOrNull()
        if (id == null) return tanpaKamera("HP ini tidak punya kamera yang dapat dipakai.")
        val cam = try {
            Camera.open(id)
        } catch (e: RuntimeException) {
            return tanpaKamera("Kamera sedang dipakai aplikasi lain. Tutup aplikasi itu, lalu coba lagi.")
        }
        try {
            val p = cam.parameters
            // The largest preview up to 1280×720: enough for a printed QR, light for a weak phone.
            p.supportedPreviewSizes?.filter { it.width * it.height <= PembacaQr.PIKSEL_MAKS }?.maxByOrNull { it.width * it.height }
                ?.let { p.setPreviewSize(it.width, it.height) }
            if (p.supportedFocusModes?.contains(Camera.Parameters.FOCUS_MODE_CONTINUOUS_PICTURE) == true) {
                p.focusMode = Camera.Parameters.FOCUS_MODE_CONTINUOUS_PICTURE
            }
            cam.parameters = p
            val s = cam.parameters.previewSize
            ukuran = s.width to s.height
            cam.setDisplayOrientation(putaran(id))
            cam.setPreviewDisplay(holder)
            // NV21: 12 bits a pixel. Two buffers: one being read while the camera fills the other.
            repeat(2) { cam.addCallbackBuffer(ByteArray(s.width * s.height * 3 / 2)) }
            cam.setPreviewCallbackWithBuffer(this)
            cam.startPreview()
            kamera = cam
        } catch (e: Exception) {
            cam.release()
            tanpaKamera("Kamera tidak dapat dinyalakan. Ketik kode pendaftaran saja.")
        }
    }

    override fun surfaceChanged(holder: SurfaceHolder, format: Int, width: Int, height: Int) {}

    override fun surfaceDestroyed(holder: SurfaceHolder) = lepasKamera()

    /** Each frame: read in the background unless a read is running or ran less than 150 ms ago
     *  (a weak phone stays responsive and cool); the buffer goes back to the camera after. */
    override fun onPreviewFrame(data: ByteArray?, camera: Camera?) {
        val (w, h) = ukuran ?: return
        if (data == null) return
        val sekarang = SystemClock.uptimeMillis()
        if (selesai || sedangMembaca || sekarang - terakhirDibaca < 150) {
            camera?.addCallbackBuffer(data)
            return
        }
        sedangMembaca = true
        terakhirDibaca = sekarang
        Latar.kerjakan({ PembacaQr.baca(data, w, h) }, {
            sedangMembaca = false
            kamera?.addCallbackBuffer(data)
        }) { teks ->
            sedangMembaca = false
            kamera?.addCallbackBuffer(data)
            if (teks != null) terbaca(teks)
        }
    }

    private fun terbaca(teks: String) {
        if (selesai) return
        if (!PembacaQr.kodePendaftaran(teks)) {
            keterangan.text = "Kode QR ini bukan kode pendaftaran Jemput. Minta kode QR pendaftaran ke kantor kelurahan."
            return
        }
        selesai = true
        lepasKamera()
        // Enrols at once, as when the camera app opens the jemput://enroll link.
        a.ganti(LayarPendaftaran(a, teks.trim()))
    }

    private fun tanpaKamera(sebab: String) {
        wadah.removeAllViews()
        wadah.setBackgroundColor(Color.WHITE)
        val k = a.kolom()
        k.addView(a.teks(sebab, 20f, bold = true, color = Warna.GALAT))
        k.addView(a.tombol("Ketik kode saja", utama = true) { a.tutupLayar() })
        wadah.addView(a.gulir(k))
    }

    private fun lepasKamera() {
        val cam = kamera ?: return
        kamera = null
        runCatching {
            cam.setPreviewCallbackWithBuffer(null)
            cam.stopPreview()
        }
        cam.release()
    }

    /** Degrees to turn the preview so it stands as the screen does (the usual back camera rule). */
    private fun putaran(id: Int): Int {
        val info = Camera.CameraInfo().also { Camera.getCameraInfo(id, it) }
        val layar = when (a.windowManager.defaultDisplay.rotation) {
            Surface.ROTATION_90 -> 90
            Surface.ROTATION_180 -> 180
            Surface.ROTATION_270 -> 270
            else -> 0
        }
        return if (info.facing == Camera.CameraInfo.CAMERA_FACING_FRONT) (360 - (info.orientation + layar) % 360) % 360
        else (info.orientation - layar + 360) % 360
    }

    /** The aiming square drawn over the preview. */
    private class Bidik(ctx: android.content.Context) : View(ctx) {
        private val garis = Paint().apply {
            color = Color.WHITE
            style = Paint.Style.STROKE
            strokeWidth = ctx.dp(4).toFloat()
            isAntiAlias = true
        }

        override fun onDraw(canvas: Canvas) {
            val sisi = minOf(width, height) * 0.8f
            val kiri = (width - sisi) / 2
            val atas = (height - sisi) / 2
            canvas.drawRoundRect(kiri, atas, kiri + sisi, atas + sisi, 24f, 24f, garis)
        }
    }
}
