//! No. KK (Kartu Keluarga) validation.
