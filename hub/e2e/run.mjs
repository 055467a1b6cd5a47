// End-to-end test of the staff dashboard in a real browser (Chromium from Debian, driven by
// playwright-core) against the real `jemput-hub` binary and a real phone (the core's store and
// sync client, `jemput-phone`): a new kelurahan is set up from nothing, an officer's phone is
// enrolled from the QR payload and syncs a request, staff find it, change its status and
// assign a letter number, the phone sees the new status after its next sync, the list is
// exported to CSV and XLSX (and opened), the letter is printed to PDF, a receipt is checked on
// the public page. Screenshots of the main pages go to docs/screenshots/dashboard/.
//
//   node hub/e2e/run.mjs HUB_BINARY PHONE_BINARY

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';

const [hubBin, phoneBin] = process.argv.slice(2).map((p) => resolve(p));
const CHROMIUM = process.env.JEMPUT_CHROMIUM || '/usr/bin/chromium';
const root = resolve(new URL('../..', import.meta.url).pathname);
const shots = join(root, 'docs/screenshots/dashboard');
mkdirSync(shots, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'jemput-e2e-'));
const PASSWORD = 'sandi-admin-uji-2026';

let step = 0;
const log = (m) => console.log(`[e2e ${++step}] ${m}`);
function check(cond, msg) {
  if (!cond) throw new Error(`GAGAL: ${msg}`);
}

const freePort = () =>
  new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
let hubLog = '';
const hub = spawn(
  hubBin,
  ['--database', join(work, 'hub.db'), '--key', join(work, 'hub.key'), '--public-url', base, 'serve', '--listen', `127.0.0.1:${port}`],
  { cwd: work, env: { ...process.env, RUST_LOG: 'info' } },
);
hub.stderr.on('data', (d) => (hubLog += d.toString()));
hub.stdout.on('data', (d) => (hubLog += d.toString()));

const phoneDir = join(work, 'hp');
function phone(...args) {
  return execFileSync(phoneBin, [phoneDir, ...args], { encoding: 'utf8' }).trim();
}

async function waitFor(fn, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (_) {}
    if (Date.now() > end) throw new Error(`GAGAL: menunggu ${what}\n${hubLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let browser;
try {
  await waitFor(async () => (await fetch(`${base}/healthz`)).ok, 'hub siap');
  // The browser in Bahasa Indonesia, as on a kelurahan PC: its own widgets (a date field reads
  // dd/mm/tttt) follow the browser's language (LANGUAGE on Linux), the pages' formats the
  // context's locale.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--lang=id-ID'],
    env: { ...process.env, LANGUAGE: 'id' },
  });
  const INDONESIA = { viewport: { width: 1280, height: 900 }, locale: 'id-ID', timezoneId: 'Asia/Jakarta' };
  const context = await browser.newContext({ ...INDONESIA, acceptDownloads: true });
  const page = await context.newPage();
  const shot = async (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  // 1. A new hub sends the browser to the first set-up; the code is in the hub's log.
  await page.goto(base + '/');
  check(page.url().endsWith('/siapkan'), `hub baru membuka /siapkan, bukan ${page.url()}`);
  const code = await waitFor(() => hubLog.match(/kode penyiapan: ([A-Z0-9]+)/)?.[1], 'kode penyiapan di log');
  log('hub baru: halaman penyiapan, kode dari log');
  await page.fill('#setup_code', 'SALAH');
  await page.fill('#name', 'Kelurahan Sukamaju');
  await page.fill('#region_code', '35.78.01.1001');
  await page.fill('#kecamatan', 'Sukamaju');
  await page.fill('#city', 'Kota Surabaya');
  await page.fill('#office_address', 'Jl. Raya Sukamaju No. 1, Surabaya');
  await page.fill('#rws', '1: 1-4\n2: 1-3');
  await page.fill('#contacts', 'Sekretaris Kelurahan | 081234567890');
  await page.fill('#links', 'Cek bansos | https://cekbansos.kemensos.go.id');
  await page.fill('#government', 'Pemerintah Kota Surabaya');
  await page.fill('#phone', '031-5551234');
  await page.fill('#email', 'kel.sukamaju@surabaya.go.id');
  await page.fill('#signer_name', 'Drs. Bambang Sutrisno');
  await page.fill('#signer_nip', '196805121990031005');
  await page.fill('#admin_name', 'Rina Kartika');
  await page.fill('#admin_username', 'rina');
  await page.fill('#admin_password', PASSWORD);
  await page.fill('#admin_password2', PASSWORD);
  await shot('01-penyiapan');
  await page.click('button[type=submit]');
  check((await page.textContent('body')).includes('Kode penyiapan salah'), 'kode salah ditolak di samping isian');
  await page.fill('#setup_code', code);
  await page.fill('#admin_password', PASSWORD);
  await page.fill('#admin_password2', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL('**/masuk');
  log('kelurahan dibuat dari nol; admin pertama ada');

  // 2. Sign in (a wrong password first).
  await page.fill('#pengguna', 'rina');
  await page.fill('#sandi', 'salah-sekali-ini');
  await page.click('button[type=submit]');
  check((await page.textContent('body')).includes('Nama pengguna atau kata sandi salah'), 'sandi salah ditolak');
  await shot('02-masuk');
  await page.fill('#pengguna', 'rina');
  await page.fill('#sandi', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL('**/kotak-masuk');
  log('masuk sebagai admin');

  // 3. An officer and the enrolment QR; the phone enrols from the QR's text.
  await page.goto(base + '/petugas');
  await page.fill('#o-name', 'Sri Wahyuni');
  await page.fill('#o-rw', '1');
  await page.fill('#o-rt', '2');
  await page.click('form.baris button[type=submit]');
  await page.waitForURL('**/petugas');
  await page.click('text=Kode QR pendaftaran');
  await page.waitForSelector('#kode-qr svg');
  const payload = await page.getAttribute('#kode-qr .qr-gambar', 'data-isi');
  check(payload.startsWith('jemput://enroll?') && payload.includes(encodeURIComponent(base)), `isi QR: ${payload}`);
  await shot('03-petugas-qr');
  check(phone('enrol', payload, 'HP Bu Sri') === 'terdaftar', 'HP terdaftar');
  phone('sync');
  const receipt = phone('record', '1', '2', '0');
  phone('record', '1', '2', '1');
  phone('sync');
  check(phone('status', receipt) === 'terkirim', 'HP melihat permohonan terkirim');
  log(`HP terdaftar lewat QR, mencatat dan mengirim permohonan ${receipt}`);
  await page.goto(base + '/petugas');
  const devices = await page.textContent('table.daftar');
  check(devices.includes('HP Bu Sri') && devices.includes('semua terkirim'), `perangkat dan sisa kirimannya: ${devices}`);
  await shot('03b-petugas-perangkat');

  // 4. Inbox and list; find the request by its receipt code.
  await page.goto(base + '/kotak-masuk');
  check((await page.textContent('main')).includes(receipt), 'permohonan muncul di kotak masuk');
  check((await page.textContent('main')).includes('Sri Wahyuni'), 'dikelompokkan per petugas');
  await shot('04-kotak-masuk');
  await page.goto(base + '/permohonan');
  await page.fill('#cari', receipt);
  await page.click('form.saring button[type=submit]');
  const rows = await page.locator('table.daftar tbody tr').count();
  check(rows === 1, `pencarian kode memberi 1 baris, bukan ${rows}`);
  await page.goto(base + '/permohonan');
  await page.fill('#cari', 'bud sant');
  await page.click('form.saring button[type=submit]');
  const byName = await page.locator('table.daftar tbody tr').count();
  check(byName === 1 && (await page.textContent('table.daftar')).includes('Budi Santoso'), `pencarian awal nama memberi 1 baris, bukan ${byName}`);
  await page.goto(base + '/permohonan');
  await shot('05-daftar-permohonan');
  await page.fill('#cari', receipt);
  await page.click('form.saring button[type=submit]');
  await page.click(`table.daftar a:has-text("${receipt}")`);
  await page.waitForURL('**/permohonan/*');
  const detailUrl = page.url();
  log('permohonan ditemukan lewat pencarian');

  // 5. Status changes, letter number.
  for (const st of ['diverifikasi', 'diproses']) {
    await page.selectOption('#status', st);
    await page.click('form[action$="/status"] button');
    await page.waitForURL(detailUrl);
  }
  await page.check('input[name=auto_number]');
  await page.click('form[action$="/kantor"] button');
  await page.waitForURL(detailUrl);
  const number = await page.inputValue('#letter_number');
  check(/^470\/001\/35\.78\.01\.1001\/[IVX]+\/\d{4}$/.test(number), `nomor surat: ${number}`);
  await page.selectOption('#status', 'selesai');
  await page.click('form[action$="/status"] button');
  await page.waitForURL(detailUrl);
  check((await page.textContent('main')).includes('Selesai (surat siap)'), 'status selesai tampil');
  await shot('06-rincian-permohonan');
  log(`status diubah ke selesai, nomor surat ${number}`);

  // 6. The phone sees it after its next sync.
  phone('sync');
  const seen = phone('status', receipt);
  check(seen === 'selesai', `HP melihat status ${seen}`);
  log('HP melihat status selesai setelah sinkronisasi');

  // 7. Exports, opened.
  await page.goto(base + '/permohonan?rw=1');
  const [csvDl] = await Promise.all([page.waitForEvent('download'), page.click('text=Unduh CSV')]);
  const csvPath = join(work, 'ekspor.csv');
  await csvDl.saveAs(csvPath);
  const csv = readFileSync(csvPath, 'utf8');
  check(csv.includes('Kode tanda terima') && csv.includes(receipt) && csv.includes(number), 'CSV berisi permohonan');
  check(csv.trim().split('\n').length === 3, 'CSV: kepala + 2 baris');
  const [xDl] = await Promise.all([page.waitForEvent('download'), page.click('text=Unduh Excel')]);
  const xPath = join(work, 'ekspor.xlsx');
  await xDl.saveAs(xPath);
  const sheet = execFileSync(
    'python3',
    ['-c', 'import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);n=z.namelist();print("\\n".join(z.read(x).decode() for x in n if x.startswith("xl/")))', xPath],
    { encoding: 'utf8' },
  );
  check(sheet.includes(receipt) && sheet.includes('Permohonan'), 'XLSX terbuka dan berisi permohonan');
  log('ekspor CSV dan XLSX dibuka dan berisi permohonan');

  // 8. Print the letter to PDF (browser print stylesheet), and the hub's own PDF.
  await page.goto(detailUrl + '/cetak');
  check((await page.textContent('.kop')).includes('PEMERINTAH KOTA SURABAYA'), 'kop surat');
  await shot('07-cetak-surat');
  await page.emulateMedia({ media: 'print' });
  const printed = join(work, 'surat-cetak.pdf');
  await page.pdf({ path: printed, format: 'A4', printBackground: false });
  await page.emulateMedia({ media: 'screen' });
  check(readFileSync(printed).subarray(0, 5).toString() === '%PDF-', 'PDF dari pencetakan peramban');
  const hubPdf = await page.request.get(detailUrl + '/surat.pdf');
  const pdfBytes = await hubPdf.body();
  check(hubPdf.headers()['content-type'] === 'application/pdf' && pdfBytes.subarray(0, 5).toString() === '%PDF-', 'PDF dari hub');
  check(pdfBytes.toString('latin1').includes(number), 'PDF hub memuat nomor surat');
  log('surat dicetak ke PDF (peramban) dan PDF hub diunduh');

  // 9. Other main pages for the screenshots.
  for (const [path, name] of [['/pengaduan', '08-pengaduan'], ['/katalog', '09-katalog'], ['/profil', '10-profil'], ['/staf', '11-akun-staf'], ['/audit', '12-audit'], ['/papan-pengumuman', '13-papan-pengumuman']]) {
    const r = await page.goto(base + path);
    check(r.status() === 200, `${path} -> ${r.status()}`);
    if (path === '/katalog') await page.click('summary:has-text("Domisili (Tempat Tinggal)")');
    await shot(name);
  }
  // 9b. An access request (UU PDP): everything held about the resident's NIK, printed on A4
  // with the letterhead; the NIK travels in the form's body, not in the address.
  await page.goto(base + '/akses');
  await page.fill('#nik', '3576024105900001');
  await page.click('form[action="/akses"] button[type=submit]');
  await page.waitForSelector('article.akses');
  check(!page.url().includes('3576'), 'NIK tidak ada di alamat');
  const akses = await page.textContent('article.akses');
  check(akses.includes('DATA PRIBADI YANG DISIMPAN') && akses.includes('PEMERINTAH KOTA SURABAYA'), 'jawaban akses: kop surat');
  check(akses.includes(receipt) && akses.includes(number) && akses.includes('Pemohon'), 'jawaban akses: permohonan warga');
  check(akses.includes('Selesai (surat siap)') && akses.includes('Rina Kartika'), 'jawaban akses: riwayat status dengan pelakunya');
  await shot('15-akses-data-pribadi');
  await page.emulateMedia({ media: 'print' });
  const aksesPdf = join(work, 'akses-cetak.pdf');
  await page.pdf({ path: aksesPdf, format: 'A4', printBackground: false });
  await page.emulateMedia({ media: 'screen' });
  check(readFileSync(aksesPdf).subarray(0, 5).toString() === '%PDF-', 'jawaban akses dicetak ke PDF');
  log('permintaan akses data pribadi dicetak');
  await page.goto(base + '/audit');
  const audit = await page.textContent('main');
  check(audit.includes('akses_data_pribadi:nik#') && !audit.includes('3576024105900001'), 'akses data diaudit tanpa NIK');
  check(audit.includes('Rina Kartika') && audit.includes('status:selesai'), 'audit mencatat siapa melakukan apa');
  // The audit log of the last days as CSV, for a breach report (ADR 0014).
  const [auditDl] = await Promise.all([page.waitForEvent('download'), page.click('text=Unduh CSV')]);
  const auditCsv = readFileSync(await auditDl.path()).toString('utf8');
  check(auditCsv.startsWith('\ufeffwaktu,waktu_ms,pelaku,nama_pelaku,tindakan,dokumen,tanda_terima'), 'CSV audit berkepala kolom');
  check(auditCsv.includes('Rina Kartika') && auditCsv.includes('status:selesai') && auditCsv.includes(receipt), 'CSV audit: siapa, apa, tanda terima');
  log('jejak audit diunduh sebagai CSV untuk laporan');

  // 10. The public check, without an account: service, status and date only.
  const pub = await browser.newContext(INDONESIA);
  const p2 = await pub.newPage();
  await p2.goto(base + '/cek');
  await p2.fill('#kode', receipt);
  await p2.click('button[type=submit]');
  const pubText = await p2.textContent('body');
  check(pubText.includes('Selesai') && pubText.includes('Domisili'), 'cek publik menampilkan layanan dan status');
  check(!pubText.includes('Siti') && !pubText.includes('3576'), 'cek publik tanpa nama/NIK');
  await p2.screenshot({ path: join(shots, '14-cek-tanda-terima.png'), fullPage: true });
  log('cek tanda terima publik');

  // 10b. Erase the applicant's personal data on her request (lurah/admin, with a reason and a
  // confirmation); the register entry stays and the phone loses its copy on its next sync.
  await page.goto(detailUrl);
  await page.fill('#alasan', 'permintaan warga, surat tanggal 3 Desember 2026');
  page.once('dialog', (d) => d.accept());
  await page.click('form[action$="/hapus"] button');
  await page.waitForURL(detailUrl);
  const erasedText = await page.textContent('main');
  check(erasedText.includes('Data pribadi pemohon sudah dihapus') && erasedText.includes(receipt), 'data pribadi dihapus');
  check((await page.inputValue('#letter_number')) === number, 'register surat tetap: nomor surat');
  check(!erasedText.includes('Siti'), 'nama pemohon tidak tampil lagi');
  await shot('16-data-dihapus');
  phone('sync');
  let still = true;
  try { phone('status', receipt); } catch { still = false; }
  check(!still, 'HP menghapus salinannya setelah sinkronisasi');
  log('data pribadi dihapus dari hub dan HP; register surat tetap');

  // 10c. A complaint is erased the same way, on the reporter's request: the register entry
  // stays at the hub and the phone loses its copy on its next sync.
  const complaint = phone('complaint', '1', '2');
  phone('sync');
  check(phone('complaint-status', complaint) === 'dicatat', 'HP memegang pengaduan');
  await page.goto(base + '/pengaduan');
  await page.click(`a:has-text("${complaint}")`);
  const complaintUrl = page.url();
  check((await page.textContent('main')).includes('Hartono Wibisono'), 'pengaduan dengan pelapor tampil');
  await page.fill('#alasan', 'permintaan pelapor, surat tanggal 4 Desember 2026');
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.accept(); });
  await page.click('form[action$="/hapus"] button');
  await page.waitForURL(complaintUrl);
  check(asked.includes('Tidak dapat dibatalkan'), 'konfirmasi sebelum menghapus pengaduan');
  const complaintText = await page.textContent('main');
  check(complaintText.includes('Data pribadi pada pengaduan ini sudah dihapus') && complaintText.includes(complaint), 'pengaduan dihapus, register tetap');
  check(!complaintText.includes('Hartono') && !complaintText.includes('Lampu jalan'), 'pelapor dan isi tidak tampil lagi');
  await shot('17-pengaduan-dihapus');
  phone('sync');
  let held = true;
  try { phone('complaint-status', complaint); } catch { held = false; }
  check(!held, 'HP menghapus salinan pengaduan setelah sinkronisasi');
  log('pengaduan dihapus dari hub dan HP; register tetap');

  // 10d. The retention policy (admin): shown in words, checked next to each field, and the
  // phone receives the new policy on its next sync.
  await page.goto(base + '/masa-simpan');
  const policyText = await page.textContent('main');
  check(policyText.includes('dari HP petugas 30 hari') && policyText.includes('730 hari (± 2 tahun)'), 'masa simpan berlaku tampil');
  await shot('18-masa-simpan');
  await page.fill('#request_days_on_phone', '60');
  await page.fill('#request_days_on_hub', '45');
  await page.click('form[action="/masa-simpan"] button[type=submit]');
  const fieldError = await page.textContent('#request_days_on_hub ~ .galat-isian');
  check(fieldError.includes('tidak boleh lebih pendek'), 'galat di samping isian masa simpan kelurahan');
  await shot('19-masa-simpan-galat');
  check(phone('retention') === '30 730 30 365', 'HP belum menerima kebijakan yang ditolak');
  await page.fill('#request_days_on_phone', '14');
  await page.fill('#request_days_on_hub', '400');
  await page.fill('#complaint_days_on_phone', '7');
  await page.fill('#complaint_days_on_hub', '180');
  await page.click('form[action="/masa-simpan"] button[type=submit]');
  check((await page.textContent('main')).includes('Masa simpan disimpan'), 'masa simpan disimpan');
  phone('sync');
  check(phone('retention') === '14 400 7 180', 'HP menerima masa simpan baru pada sinkronisasi berikutnya');
  log('masa simpan diubah admin dan sampai ke HP');

  // 11. Sign out ends the session.
  await page.goto(base + '/kotak-masuk');
  await page.click('text=Keluar');
  await page.waitForURL('**/masuk');
  await page.goto(base + '/permohonan');
  check(page.url().endsWith('/masuk'), 'setelah keluar, halaman staf meminta masuk');
  log('keluar');
  console.log('E2E dasbor: semua langkah lulus');
} catch (e) {
  console.error(e.message);
  console.error('--- log hub ---\n' + hubLog.split('\n').slice(-40).join('\n'));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  hub.kill('SIGTERM');
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}
