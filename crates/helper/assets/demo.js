// Demo reader page: lists the demo holders and inserts/removes their virtual cards.
'use strict';

(function () {
  const LABEL = { hpki: ['HPKIカード', 'HPKI card'], jpki: ['マイナンバーカード', 'My Number card'] };

  async function send(path, body) {
    const r = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body || {}),
    });
    if (r.ok) render(await r.json());
  }

  function el(tag, text) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function render(s) {
    const status = document.getElementById('inserted');
    if (s.inserted) {
      const h = s.holders[s.inserted.holder];
      const l = LABEL[s.inserted.card];
      status.textContent = '挿入中: ' + h.name + ' の' + l[0] + ' / Inserted: ' + l[1] + ' of ' + h.name;
    } else {
      status.textContent = 'カードは挿入されていません / No card inserted';
    }
    const list = document.getElementById('holders');
    list.replaceChildren();
    s.holders.forEach((h, i) => {
      const sec = el('section');
      sec.appendChild(el('h2', h.name + ' (' + h.hpki_id + ')'));
      sec.appendChild(el('p', 'HPKI PIN: ' + h.hpki_pin + ' / 利用者証明用パスワード: ' + h.jpki_auth_pin));
      ['hpki', 'jpki'].forEach((card) => {
        const b = el('button', LABEL[card][0] + 'を挿入 / Insert ' + LABEL[card][1]);
        b.type = 'button';
        b.addEventListener('click', () => send('/demo/insert', { holder: i, card: card }));
        sec.appendChild(b);
      });
      list.appendChild(sec);
    });
  }

  document.getElementById('remove').addEventListener('click', () => send('/demo/remove'));
  fetch('/demo/state', { credentials: 'same-origin' }).then((r) => r.json()).then(render);
})();
