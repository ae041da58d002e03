// Progressive enhancement only: every page works without this file.
// Forms that end a candidate's life ask for confirmation first.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form && form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
