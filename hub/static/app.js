// Dasbor staf Jemput: sedikit JavaScript. Semua tetap berjalan tanpa skrip.
document.addEventListener('submit', function (e) {
  var msg = e.target.getAttribute('data-yakin');
  if (msg && !window.confirm(msg)) { e.preventDefault(); }
});
document.addEventListener('click', function (e) {
  if (e.target.hasAttribute && e.target.hasAttribute('data-cetak')) { window.print(); }
});
