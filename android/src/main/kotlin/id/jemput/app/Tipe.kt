//! The library's record and enum types under the app's own names. UniFFI generates the core's
//! types into the package `uniffi.jemput_core` and the library's own into `uniffi.jemput`; the
//! screens only see these aliases, so if the bindings move a type, this file alone changes.

package id.jemput.app

/** `Actor` of the library (generated). */
typealias Actor = uniffi.jemput_core.Actor
/** `Address` of the library (generated). */
typealias Address = uniffi.jemput_core.Address
/** `Applicant` of the library (generated). */
typealias Applicant = uniffi.jemput_core.Applicant
/** `Catalog` of the library (generated). */
typealias Catalog = uniffi.jemput_core.Catalog
/** `Complaint` of the library (generated). */
typealias Complaint = uniffi.jemput_core.Complaint
/** `ComplaintDraft` of the library (generated). */
typealias ComplaintDraft = uniffi.jemput_core.ComplaintDraft
/** `ComplaintSummary` of the library (generated). */
typealias ComplaintSummary = uniffi.jemput_core.ComplaintSummary
/** `ComplaintUpdate` of the library (generated). */
typealias ComplaintUpdate = uniffi.jemput_core.ComplaintUpdate
/** `Contact` of the library (generated). */
typealias Contact = uniffi.jemput_core.Contact
/** `DocRefusal` of the library (generated). */
typealias DocRefusal = uniffi.jemput_core.DocRefusal
/** `ExtraField` of the library (generated). */
typealias ExtraField = uniffi.jemput_core.ExtraField
/** `Identity` of the library (generated). */
typealias Identity = uniffi.jemput_core.Identity
/** `Issue` of the library (generated). */
typealias Issue = uniffi.jemput_core.Issue
/** `Kelurahan` of the library (generated). */
typealias Kelurahan = uniffi.jemput_core.Kelurahan
/** `Link` of the library (generated). */
typealias Link = uniffi.jemput_core.Link
/** `OfficeFields` of the library (generated). */
typealias OfficeFields = uniffi.jemput_core.OfficeFields
/** `Place` of the library (generated). */
typealias Place = uniffi.jemput_core.Place
/** `Progress` of the library (generated). */
typealias Progress = uniffi.jemput_core.Progress
/** `PurgeReport` of the library (generated). */
typealias PurgeReport = uniffi.jemput_core.PurgeReport
/** `Recorded` of the library (generated). */
typealias Recorded = uniffi.jemput_core.Recorded
/** `Reporter` of the library (generated). */
typealias Reporter = uniffi.jemput_core.Reporter
/** `Request` of the library (generated). */
typealias Request = uniffi.jemput_core.Request
/** `RequestDraft` of the library (generated). */
typealias RequestDraft = uniffi.jemput_core.RequestDraft
/** `RequestFilter` of the library (generated). */
typealias RequestFilter = uniffi.jemput_core.RequestFilter
/** `RequestSummary` of the library (generated). */
typealias RequestSummary = uniffi.jemput_core.RequestSummary
/** `Requirement` of the library (generated). */
typealias Requirement = uniffi.jemput_core.Requirement
/** `Rw` of the library (generated). */
typealias Rw = uniffi.jemput_core.Rw
/** `Service` of the library (generated). */
typealias Service = uniffi.jemput_core.Service
/** `StatusChange` of the library (generated). */
typealias StatusChange = uniffi.jemput_core.StatusChange
/** `StatusNews` of the library (generated). */
typealias StatusNews = uniffi.jemput_core.StatusNews
/** `SyncHealth` of the library (generated). */
typealias SyncHealth = uniffi.jemput_core.SyncHealth
/** `SyncReport` of the library (generated). */
typealias SyncReport = uniffi.jemput_core.SyncReport
/** `SyncSummary` of the library (generated). */
typealias SyncSummary = uniffi.jemput_core.SyncSummary
/** `ComplaintCategory` of the library (generated). */
typealias ComplaintCategory = uniffi.jemput_core.ComplaintCategory
/** `ComplaintStatus` of the library (generated). */
typealias ComplaintStatus = uniffi.jemput_core.ComplaintStatus
/** `FieldKind` of the library (generated). */
typealias FieldKind = uniffi.jemput_core.FieldKind
/** `Role` of the library (generated). */
typealias Role = uniffi.jemput_core.Role
/** `Severity` of the library (generated). */
typealias Severity = uniffi.jemput_core.Severity
/** `Sex` of the library (generated). */
typealias Sex = uniffi.jemput_core.Sex
/** `Status` of the library (generated). */
typealias Status = uniffi.jemput_core.Status
