// The chosen theme before the first paint (no flash); otherwise the system's preference decides (app.css).
(function () { var t = localStorage.getItem('reimage-theme'); if (t) document.documentElement.dataset.theme = t; })();
