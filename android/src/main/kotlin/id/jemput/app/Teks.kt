//! Words the officer reads that are not sentences from the library: status names, dates, the
//! receipt code spelled out for reading aloud, and the date helpers of the request form.
//! Everything is Bahasa Indonesia.

package id.jemput.app

import java.text.SimpleDateFormat
import java.util.Date
import java.util.Locale

/** Names, colours and formats shown to the officer. */
object Teks {
    private val indonesia = Locale("in", "ID")

    /** The name of a request status, as the officer says it. */
    fun status(s: Status): String = when (s) {
        Status.DICATAT -> "Belum terkirim"
        Status.TERKIRIM -> "Terkirim"
        Status.DIVERIFIKASI -> "Diverifikasi"
        Status.DIPROSES -> "Diproses"
        Status.PERLU_KELENGKAPAN -> "Perlu kelengkapan"
        Status.DILENGKAPI -> "Dilengkapi"
        Status.DITOLAK -> "Ditolak"
        Status.SELESAI -> "Surat siap"
        Status.DISERAHKAN -> "Diserahkan"
    }

    /** The colour of a status badge. */
    fun warnaStatus(s: Status): Int = when (s) {
        Status.DICATAT -> Warna.BELUM_TERKIRIM
        Status.PERLU_KELENGKAPAN, Status.DITOLAK -> Warna.GALAT
        Status.SELESAI -> Warna.SURAT_SIAP
        Status.DISERAHKAN -> Warna.BAIK
        else -> Warna.UTAMA
    }

    /** The name of a complaint status. */
    fun statusAduan(s: ComplaintStatus): String = when (s) {
        ComplaintStatus.DICATAT -> "Belum terkirim"
        ComplaintStatus.DITERIMA -> "Diterima kantor"
        ComplaintStatus.DITINDAKLANJUTI -> "Ditindaklanjuti"
        ComplaintStatus.SELESAI -> "Selesai"
    }

    /** The colour of a complaint status badge. */
    fun warnaStatusAduan(s: ComplaintStatus): Int = when (s) {
        ComplaintStatus.DICATAT -> Warna.BELUM_TERKIRIM
        ComplaintStatus.SELESAI -> Warna.BAIK
        else -> Warna.UTAMA
    }

    /** The name of a complaint category. */
    fun kategori(c: ComplaintCategory): String = when (c) {
        ComplaintCategory.PENGADUAN -> "Pengaduan"
        ComplaintCategory.ASPIRASI -> "Aspirasi"
        ComplaintCategory.SARAN -> "Saran"
    }

    /** Who made a change. */
    fun peran(r: Role): String = when (r) {
        Role.PETUGAS -> "petugas"
        Role.STAF -> "kantor kelurahan"
        Role.SISTEM -> "sistem"
    }

    /** A moment as "29 Nov 2026 14.05". */
    fun waktu(ms: Long): String = SimpleDateFormat("d MMM yyyy HH.mm", indonesia).format(Date(ms))

    /** RT/RW written with three digits, as on letters: "RT 003 / RW 005". */
    fun rtRw(rt: Int?, rw: Int): String =
        if (rt != null) "RT %03d / RW %03d".format(rt, rw) else "RW %03d".format(rw)

    private val huruf = mapOf(
        'A' to "a", 'B' to "be", 'C' to "ce", 'D' to "de", 'E' to "e", 'F' to "ef", 'G' to "ge",
        'H' to "ha", 'I' to "i", 'J' to "je", 'K' to "ka", 'L' to "el", 'M' to "em", 'N' to "en",
        'O' to "o", 'P' to "pe", 'Q' to "ki", 'R' to "er", 'S' to "es", 'T' to "te", 'U' to "u",
        'V' to "ve", 'W' to "we", 'X' to "eks", 'Y' to "ye", 'Z' to "zet",
        '0' to "nol", '1' to "satu", '2' to "dua", '3' to "tiga", '4' to "empat", '5' to "lima",
        '6' to "enam", '7' to "tujuh", '8' to "delapan", '9' to "sembilan",
    )

    /** A receipt code spelled for reading aloud: "ka tujuh ki em — …", groups split by dashes. */
    fun ejaKode(code: String): String =
        code.split('-').joinToString("  —  ") { group -> group.uppercase().mapNotNull { huruf[it] }.joinToString(" ") }

    /** The birth date and sex a NIK encodes (day + 40 for women), to prefill the form; null
     *  when [nik] (as the library's `normalizeNik` gives it) is not 16 digits. The year's
     *  century is guessed: not after this year. */
    fun dariNik(nik: String, tahunIni: Int): Pair<String, Sex>? {
        val d = nik
        if (d.length != 16 || !d.all { it in '0'..'9' }) return null
        var day = d.substring(6, 8).toInt()
        val month = d.substring(8, 10).toInt()
        val yy = d.substring(10, 12).toInt()
        val sex = if (day > 40) Sex.PEREMPUAN else Sex.LAKI_LAKI
        if (day > 40) day -= 40
        if (day !in 1..31 || month !in 1..12) return null
        val year = if (2000 + yy <= tahunIni) 2000 + yy else 1900 + yy
        return "%02d-%02d-%04d".format(day, month, year) to sex
    }

    /** A date typed as DD-MM-YYYY (any of - / . or space between) to the library's YYYY-MM-DD;
     *  what cannot be read is passed on unchanged so that the library explains the problem. */
    fun keIso(typed: String): String {
        val parts = typed.trim().split('-', '/', '.', ' ').filter { it.isNotEmpty() }
        if (parts.size != 3 || parts.any { p -> p.any { it !in '0'..'9' } }) return typed.trim()
        val (a, b, c) = parts
        return if (a.length == 4) "%s-%02d-%02d".format(a, b.toInt(), c.toInt()) else "%s-%02d-%02d".format(c, b.toInt(), a.toInt())
    }

    /** YYYY-MM-DD back to DD-MM-YYYY for display. */
    fun dariIso(iso: String): String {
        val p = iso.split('-')
        return if (p.size == 3) "${p[2]}-${p[1]}-${p[0]}" else iso
    }

    /** A NIK shown with the middle hidden: "3576 •••• •••• 0001". */
    fun nikSamar(nik: String): String = if (nik.length == 16) "${nik.take(4)} •••• •••• ${nik.takeLast(4)}" else "••••"
}
