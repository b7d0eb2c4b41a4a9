// The helper's PIN page. Polls the operation's state, posts the PIN to the helper (same origin),
// and never keeps the PIN: the field is cleared as soon as it is sent.
'use strict';

(function () {
  const app = document.getElementById('app');
  const op = app.dataset.op;
  const card = app.dataset.card;
  const $ = (id) => document.getElementById(id);
  const form = $('pin-form');
  const input = $('pin');
  const showPin = $('show-pin');
  const cancelButton = $('cancel');
  // The operation ended (or was lost): closing the window then is no news.
  let finished = false;

  const STATES = {
    waiting_card: card === 'jpki'
      ? ['マイナンバーカードをカードリーダーに挿入してください。', 'Insert your My Number card into the reader.']
      : ['HPKIカードをカードリーダーに挿入してください。', 'Insert your HPKI card into the reader.'],
    change_card: card === 'jpki'
      ? ['挿入されているカードを取り出し、マイナンバーカードに差し替えてください。', 'Take out the card and insert your My Number card.']
      : ['挿入されているカードを取り出し、HPKIカードに差し替えてください。', 'Take out the card and insert your HPKI card.'],
    waiting_pin: ['暗証番号を入力してください。', 'Enter your PIN.'],
    communicating: card === 'jpki'
      ? ['個人番号カードと通信をしています。カードを取り外さないでください。', 'Communicating with the My Number card. Do not remove it.']
      : ['HPKIカードと通信をしています。カードを取り外さないでください。', 'Communicating with the HPKI card. Do not remove it.'],
    done: ['完了しました。このウィンドウを閉じて、元の画面にお戻りください。', 'Done. Close this window and return to the site.'],
    failed: ['操作を完了できませんでした。', 'The operation could not be completed.'],
  };

  function show(el, ja, en) {
    el.textContent = ja;
    if (en) {
      el.appendChild(document.createElement('br'));
      const span = document.createElement('span');
      span.lang = 'en';
      span.textContent = en;
      el.appendChild(span);
    }
    el.hidden = false;
  }

  function render(s) {
    const st = s.status;
    const text = STATES[st.state] || [st.state, st.state];
    show($('state'), text[0], text[1]);
    const waiting = st.state === 'waiting_pin';
    const appeared = waiting && form.hidden;
    // Asked for only once the right card is in (waiting_pin): never while the page still asks
    // to insert or swap cards, and never after the operation has ended.
    form.hidden = !waiting;
    // A keyboard user types straight into the field when it appears.
    if (appeared) input.focus();
    const tries = st.tries_left;
    if (waiting && typeof tries === 'number') {
      // The same wording as the site's page: 「残り回数: 15回」.
      show($('tries'), '残り回数: ' + tries + '回', 'Tries left: ' + tries);
    } else {
      $('tries').hidden = true;
    }
    $('last-try').hidden = !(waiting && tries === 1);
    if (s.message) {
      show($('error'), s.message.ja + ' ' + s.remedy.ja, s.message.en + ' ' + s.remedy.en);
    } else {
      $('error').hidden = true;
    }
    return st.state === 'done' || st.state === 'failed';
  }

  // A finished or unreachable operation leaves no input on screen.
  function end(ja, en) {
    finished = true;
    input.value = '';
    form.hidden = true;
    $('tries').hidden = true;
    $('last-try').hidden = true;
    show($('state'), ja, en);
  }

  async function poll() {
    try {
      const r = await fetch('/pin/' + op + '/state', { credentials: 'same-origin', cache: 'no-store' });
      if (r.status === 404) {
        // The helper restarted or forgot the operation: nothing can be entered any more.
        end('この操作は終了しています。元の画面にお戻りください。', 'This operation has ended. Return to the site.');
        return;
      }
      if (r.ok) {
        const s = await r.json();
        if (render(s)) {
          finished = true;
          // The site's page carries on by itself: a finished PIN window only gets in the way.
          // Browsers let a script close a window a script opened; otherwise the text says so.
          if (s.status.state === 'done') setTimeout(() => window.close(), 1500);
          return;
        }
      }
    } catch (e) {
      end('ヘルパーとの通信が切れました。元の画面にお戻りください。', 'Lost contact with the helper. Return to the site.');
      return;
    }
    setTimeout(poll, 700);
  }

  showPin.addEventListener('change', () => {
    input.type = showPin.checked ? 'text' : 'password';
    input.focus();
  });

  // キャンセル ends the operation at the helper; the site's page shows its cancelled screen.
  cancelButton.addEventListener('click', async () => {
    input.value = '';
    form.hidden = true;
    try {
      await fetch('/pin/' + op + '/cancel', { method: 'POST', credentials: 'same-origin' });
    } catch (e) {
      // The next poll reports the lost helper.
    }
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const pin = input.value;
    input.value = '';
    input.type = 'password';
    showPin.checked = false;
    form.hidden = true;
    const r = await fetch('/pin/' + op, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pin: pin }),
    });
    if (!r.ok) {
      const body = await r.json().catch(() => null);
      const msg = body && body.error ? body.error.message : '送信できませんでした。';
      show($('error'), msg, 'The PIN was not accepted; check its form and try again.');
      form.hidden = false;
    }
  });

  // Closing this window (or leaving it) while the operation waits tells the helper, so the site's
  // page can offer to open it again or stop: the site cannot see this window itself.
  window.addEventListener('pagehide', () => {
    // Which load of the page this is: a reload's old page cannot mark the new one closed.
    if (!finished) navigator.sendBeacon('/pin/' + op + '/closed', app.dataset.load);
  });

  poll();
})();
