//! Sync that runs by itself: a JobScheduler job with a network constraint (it runs when signal
//! returns, also after the app was closed or the phone restarted), a connectivity callback while
//! the app is open, and the "Kirim sekarang" button. One sync at a time; it runs on the
//! library's own threads and never blocks the screen. A sync cut short (signal lost, process
//! killed, job stopped) loses nothing: the next one resumes where the library left off.

package id.jemput.app

import android.app.job.JobInfo
import android.app.job.JobParameters
import android.app.job.JobScheduler
import android.app.job.JobService
import android.content.ComponentName
import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import android.net.NetworkRequest
import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.coroutines.runBlocking
import uniffi.jemput.ApiException
import uniffi.jemput.SyncListener
import uniffi.jemput.SyncTask

/** The sync of this phone: start, cancel, watch. */
object Sinkron {
    /** Told about progress and the end of every sync, on the main thread. */
    interface Pengamat {
        /** A step of the running sync. */
        fun kemajuan(p: Progress) {}

        /** The sync ended: [hasil] on success, or [galat] (a Bahasa sentence). */
        fun selesai(hasil: SyncSummary?, galat: String?) {}
    }

    private val pengamat = CopyOnWriteArrayList<Pengamat>()
    @Volatile private var tugas: SyncTask? = null
    @Volatile private var berjalan = false

    /** The last sync's error sentence, shown on the home screen until a sync succeeds. */
    @Volatile var galatTerakhir: String? = null
        private set

    /** True while a sync runs. */
    val sedangBerjalan: Boolean get() = berjalan

    /** Watches syncs until [lepas]. */
    fun amati(p: Pengamat) { pengamat.addIfAbsent(p) }

    /** Stops watching. */
    fun lepas(p: Pengamat) { pengamat.remove(p) }

    /**
     * Starts a sync unless one runs (then returns false). [akhir] is called on the main thread
     * with true when the sync should be retried later (no signal, cancelled).
     */
    @Synchronized
    fun mulai(ctx: Context, akhir: ((Boolean) -> Unit)? = null): Boolean {
        if (berjalan) return false
        berjalan = true
        val app = ctx.applicationContext
        Latar.benang("jemput-sinkron") {
            var hasil: SyncSummary? = null
            var galat: String? = null
            var ulangi = false
            try {
                val j = Jemput.buka(app)
                if (j.pendaftaran() != null) {
                    val t = j.mulaiSinkron(object : SyncListener {
                        override fun onProgress(progress: Progress) {
                            Latar.diUtama { pengamat.forEach { it.kemajuan(progress) } }
                        }
                    })
                    tugas = t
                    hasil = runBlocking { t.await() }
                }
            } catch (e: ApiException) {
                galat = e.kalimat
                ulangi = e is ApiException.Cancelled || (e is ApiException.Sync && e.code == "tidak_ada_sinyal")
            } catch (e: Exception) {
                galat = pesanGalat(e)
                ulangi = true
            } finally {
                tugas = null
            }
            Latar.diUtama {
                berjalan = false
                galatTerakhir = galat
                pengamat.forEach { it.selesai(hasil, galat) }
                akhir?.invoke(ulangi)
            }
        }
        return true
    }

    /** Something new waits to be sent: the job for when there is signal, and a sync now. */
    fun kirimSegera(ctx: Context) {
        jadwalkan(ctx)
        mulai(ctx)
    }

    /** Cancels the running sync; what was sent stays sent, the rest goes next time. */
    fun batal() {
        tugas?.cancel()
    }

    /** Job ids. */
    private const val JOB_KIRIM = 1
    private const val JOB_BERKALA = 2

    /**
     * Asks JobScheduler to sync as soon as there is any network (survives reboots), and every
     * six hours while there is network (to bring the office's decisions). Idempotent.
     */
    fun jadwalkan(ctx: Context) {
        val js = ctx.getSystemService(Context.JOB_SCHEDULER_SERVICE) as JobScheduler
        val comp = ComponentName(ctx, SyncJobService::class.java)
        js.schedule(
            JobInfo.Builder(JOB_KIRIM, comp)
                .setRequiredNetworkType(JobInfo.NETWORK_TYPE_ANY)
                .setBackoffCriteria(30_000, JobInfo.BACKOFF_POLICY_EXPONENTIAL)
                .setPersisted(true)
                .build(),
        )
        if (js.allPendingJobs.none { it.id == JOB_BERKALA }) {
            js.schedule(
                JobInfo.Builder(JOB_BERKALA, comp)
                    .setRequiredNetworkType(JobInfo.NETWORK_TYPE_ANY)
                    .setPeriodic(6 * 60 * 60 * 1000L)
                    .setPersisted(true)
                    .build(),
            )
        }
    }

    /** While the app is open: sync when a network with internet appears. */
    class PantauJaringan(private val ctx: Context) : ConnectivityManager.NetworkCallback() {
        private val cm = ctx.getSystemService(Context.CONNECTIVITY_SERVICE) as ConnectivityManager

        /** Starts watching. */
        fun pasang() {
            val req = NetworkRequest.Builder().addCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET).build()
            cm.registerNetworkCallback(req, this)
        }

        /** Stops watching. */
        fun lepas() {
            runCatching { cm.unregisterNetworkCallback(this) }
        }

        override fun onAvailable(network: Network) {
            Latar.diUtama { mulai(ctx) }
        }
    }
}

/** The JobScheduler job: one sync; rescheduled when it could not finish. */
class SyncJobService : JobService() {
    override fun onStartJob(params: JobParameters): Boolean {
        val started = Sinkron.mulai(this) { ulangi -> jobFinished(params, ulangi) }
        // A sync already running (started by the app) covers this job.
        return started
    }

    override fun onStopJob(params: JobParameters): Boolean {
        // The network went away or the system needs the phone: stop; the next run resumes.
        Sinkron.batal()
        return true
    }
}
