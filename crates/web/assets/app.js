// Small behaviours of the admin pages; everything works without it.
document.addEventListener("click", function (e) {
  var t = e.target.closest("[data-confirm]");
  if (t && !window.confirm(t.getAttribute("data-confirm"))) { e.preventDefault(); }
});
