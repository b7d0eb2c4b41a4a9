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
    form.hidden = !waiting;
    const tries = st.tries_left;
    if (waiting && typeof tries === 'number') {
      show($('tries'), '残り回数: ' + tries + ' 回', 'Tries left: ' + tries);
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

  async function poll() {
    try {
      const r = await fetch('/pin/' + op + '/state', { credentials: 'same-origin', cache: 'no-store' });
      if (r.ok) {
        const s = await r.json();
        if (render(s)) {
          // The site's page carries on by itself: a finished PIN window only gets in the way.
          // Browsers let a script close a window a script opened; otherwise the text says so.
          if (s.status.state === 'done') setTimeout(() => window.close(), 1500);
          return;
        }
      }
    } catch (e) {
      show($('state'), 'ヘルパーとの通信が切れました。', 'Lost contact with the helper.');
      return;
    }
    setTimeout(poll, 700);
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const pin = input.value;
    input.value = '';
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

  poll();
})();
