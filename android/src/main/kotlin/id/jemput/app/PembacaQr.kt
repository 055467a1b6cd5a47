//! Reads a QR code out of one camera preview frame with ZXing's QR reader (Apache 2.0, from
//! Maven Central; R8 keeps only the QR decoding parts). The frame is the camera's NV21 data:
//! its first `lebar × tinggi` bytes are the brightness plane, all a QR reader needs. A QR code
//! reads in any rotation, so the frame is not turned to the screen's orientation first.

package id.jemput.app

import com.google.zxing.BarcodeFormat
import com.google.zxing.BinaryBitmap
import com.google.zxing.DecodeHintType
import com.google.zxing.PlanarYUVLuminanceSource
import com.google.zxing.ReaderException
import com.google.zxing.common.HybridBinarizer
import com.google.zxing.qrcode.QRCodeReader

/** QR decoding of camera frames. */
object PembacaQr {
    private val petunjuk = mapOf(
        DecodeHintType.POSSIBLE_FORMATS to listOf(BarcodeFormat.QR_CODE),
        DecodeHintType.CHARACTER_SET to "UTF-8",
    )

    /** Largest frame decoded (a 1280×720 preview); bigger frames are refused, not read. */
    const val PIKSEL_MAKS = 1280 * 720

    /**
     * The text of the QR code in the brightness plane of a [lebar]×[tinggi] frame ([yuv], NV21
     * or any format whose first plane is 8-bit brightness), or null when no QR code can be read
     * in it (none in view, out of focus, cut off, or the frame is not what its size says).
     */
    fun baca(yuv: ByteArray, lebar: Int, tinggi: Int): String? {
        if (lebar <= 0 || tinggi <= 0 || lebar.toLong() * tinggi > PIKSEL_MAKS || yuv.size < lebar * tinggi) return null
        val sumber = PlanarYUVLuminanceSource(yuv, lebar, tinggi, 0, 0, lebar, tinggi, false)
        return try {
            QRCodeReader().decode(BinaryBitmap(HybridBinarizer(sumber)), petunjuk).text
        } catch (e: ReaderException) {
            null
        } catch (e: RuntimeException) {
            // A damaged frame must never take the app down; the next frame is tried.
            null
        }
    }

    /** True when [teks] is a Jemput enrolment code (the hub prints `jemput://enroll?…`). */
    fun kodePendaftaran(teks: String): Boolean = teks.trim().startsWith("jemput://enroll", ignoreCase = true)
}
