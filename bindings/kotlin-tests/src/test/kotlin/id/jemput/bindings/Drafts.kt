//! The request drafts the store and sync tests record: one SKTM request whose fields and
//! documents the default catalog accepts, so a test changes only what it is about.

package id.jemput.bindings

import uniffi.jemput_core.Address
import uniffi.jemput_core.Applicant
import uniffi.jemput_core.RequestDraft
import uniffi.jemput_core.Sex

/** A NIK registered in Kota Mojokerto (35.76.02) for a woman born 1990-05-04 (day + 40). */
fun nikPerempuan1990(serial: Int) = "357602440590%04d".format(serial)

/** A complete SKTM request for a woman born 1990-05-04, living in RW [rw] / RT [rt]. */
fun sktmDraft(
    nik: String = nikPerempuan1990(1),
    name: String = "Siti Aminah",
    rw: UShort = 5u,
    rt: UShort = 3u,
) = RequestDraft(
    serviceCode = "sktm",
    applicant = Applicant(
        name = name,
        nik = nik,
        kk = "3576020101150003",
        birthPlace = "Mojokerto",
        birthDate = "1990-05-04",
        sex = Sex.PEREMPUAN,
        address = Address(street = "Jl. Balongsari Gg. 3 No. 12", rt = rt, rw = rw),
        phone = "0812-3456-7890",
        usesWhatsapp = true,
    ),
    documentsSeen = listOf("ktp", "kk", "surat_pernyataan_tidak_mampu"),
    fields = mapOf("keperluan" to "Keringanan biaya berobat di RSUD"),
)
