/* Admin: show each message template only the fields its channel uses.
 *
 * The channel <select> carries data-channel-fields, a JSON map of channel -> field names.
 * Within the template's own block (an inline's fieldset, or the page's form), every row of
 * a content field the channel does not read is hidden — unless it already holds text, so
 * nothing typed ever disappears. Runs for rows added later with "Add another" too.
 */
(function () {
  'use strict';
  var CONTENT = ['subject', 'text_body', 'html_body', 'short_body', 'inapp_title',
                 'inapp_body', 'action_url', 'push_data', 'push_badge', 'push_sound'];

  function rowOf(input) {
    return input.closest('.form-row') || input.closest('.fieldBox') || input.parentElement;
  }

  function apply(select) {
    var map = JSON.parse(select.getAttribute('data-channel-fields') || '{}');
    var wanted = map[select.value];
    var prefix = select.name.slice(0, select.name.length - 'channel'.length);
    var scope = select.closest('.inline-related') || select.form;
    var rows = [];
    CONTENT.forEach(function (field) {
      var input = scope.querySelector('[name="' + prefix + field + '"]');
      if (!input) return;
      var show = !wanted || wanted.indexOf(field) !== -1 || input.value.trim() !== '';
      // style, not the hidden attribute: the admin's flex layout would override that.
      var box = input.closest('.fieldBox') || rowOf(input);
      box.style.display = show ? '' : 'none';
      var row = rowOf(input);
      if (rows.indexOf(row) === -1) rows.push(row);
    });
    // A row holding several fields (title and link) goes when all of them have gone.
    rows.forEach(function (row) {
      var boxes = row.querySelectorAll('.fieldBox');
      if (!boxes.length) return;
      var anyShown = Array.prototype.some.call(boxes, function (b) { return b.style.display !== 'none'; });
      row.style.display = anyShown ? '' : 'none';
    });
  }

  function wire(root) {
    root.querySelectorAll('select[data-channel-fields]').forEach(function (select) {
      if (select.dataset.wired) return;
      select.dataset.wired = '1';
      select.addEventListener('change', function () { apply(select); });
      apply(select);
    });
  }

  document.addEventListener('DOMContentLoaded', function () { wire(document); });
  document.addEventListener('formset:added', function (event) { wire(event.target); });
})();
