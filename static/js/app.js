// Small progressive enhancements; every page works without this file.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy-to]");
  if (!button) return;
  var container = button.closest("#suggestion");
  var value = container ? container.querySelector(".suggested-password").textContent : "";
  var input = document.getElementById(button.getAttribute("data-copy-to"));
  if (input && value) {
    input.value = value;
    input.type = "text"; // let the parent read and note the suggested password
    input.focus();
  }
});
// Messages swapped into the status region are announced; move focus to the main content after htmx redirects.
document.addEventListener("htmx:responseError", function () {
  var region = document.getElementById("messages");
  if (region) region.innerHTML = '<p class="message message-error">Une erreur est survenue : rechargez la page et réessayez.</p>';
});
// Keep the menu open on wide screens (browsers without ::details-content support).
(function () {
  var menu = document.querySelector(".nav-toggle");
  if (!menu || !window.matchMedia) return;
  var wide = window.matchMedia("(min-width: 60rem)");
  function sync() { if (wide.matches) menu.open = true; }
  sync();
  wide.addEventListener("change", sync);
})();
// The French upload control (_forms.html upload_control): say which file was chosen, in French.
(function () {
  function show(input) {
    var name = input.parentNode.querySelector(".upload-name");
    if (!name) return;
    name.textContent = input.files && input.files.length ? input.files[0].name : name.getAttribute("data-empty");
  }
  document.querySelectorAll(".upload-input").forEach(show);
  document.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("upload-input")) show(event.target);
  });
})();
