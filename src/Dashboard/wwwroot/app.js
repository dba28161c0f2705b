// Small progressive enhancements; every page works without them.
(function () {
  // Light/dark switch in the top bar, remembered on this device.
  document.addEventListener('click', function (e) {
    if (!e.target.closest('[data-theme-toggle]')) return;
    var root = document.documentElement;
    var dark = root.dataset.theme ? root.dataset.theme === 'dark' : matchMedia('(prefers-color-scheme: dark)').matches;
    root.dataset.theme = dark ? 'light' : 'dark';
    localStorage.setItem('reimage-theme', root.dataset.theme);
  });

  // A check-off form takes the scanner (its first field has autofocus): the Enter a scanner sends after each barcode
  // moves to the next field instead of submitting half a form (the last field's Enter submits).
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Enter') return;
    var field = e.target.closest && e.target.closest('form.checkoff input');
    if (!field || field.type === 'hidden') return;
    var fields = Array.prototype.filter.call(field.form.querySelectorAll('input'), function (i) { return i.type !== 'hidden' && i.type !== 'radio'; });
    var next = fields[fields.indexOf(field) + 1];
    if (next) { e.preventDefault(); next.focus(); }
  });

  // Print buttons (the Content-Security-Policy allows no inline handlers).
  document.addEventListener('click', function (e) {
    if (e.target.closest('[data-print]')) window.print();
  });

  // Camera scanning of asset labels where the browser can read barcodes (BarcodeDetector); keyboard-wedge scanners
  // and typing need none of this.
  function offerCamera() {
    if (!('BarcodeDetector' in window) || !navigator.mediaDevices) return;
    document.querySelectorAll('[data-camera-scan]').forEach(function (b) { b.hidden = false; });
  }
  document.addEventListener('DOMContentLoaded', offerCamera);
  if (window.Blazor) Blazor.addEventListener('enhancedload', offerCamera);
  document.addEventListener('click', async function (e) {
    var button = e.target.closest('[data-camera-scan]');
    if (!button) return;
    var form = button.closest('form'), input = form.querySelector('input[name=tag]');
    var video = document.createElement('video');
    video.className = 'camera-view'; video.setAttribute('playsinline', ''); video.muted = true;
    form.appendChild(video);
    var stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
      video.srcObject = stream; await video.play();
      var detector = new BarcodeDetector({ formats: ['qr_code', 'code_128', 'code_39', 'ean_13', 'data_matrix'] });
      for (var tries = 0; tries < 300; tries++) {
        var codes = await detector.detect(video);
        if (codes.length) { input.value = codes[0].rawValue; form.submit(); return; }
        await new Promise(function (r) { setTimeout(r, 100); });
      }
    } catch (err) {
      input.placeholder = 'Camera unavailable: type the tag';
    } finally {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      video.remove();
    }
  });
})();
