// The school's visitor-log page: reads the venue's venue.json and visitor-log.key from the school's own
// disk, fetches the day's sealed entries from this server's inbox, and opens them in the browser with
// Web Crypto: HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM,
// single-shot, info "openzone visitor log v1", aad = the venue's location-id hash. The same steps as
// openzone-wire's visitorlog::hpke; the secret never leaves the page.

const utf8 = new TextEncoder();
const KEM_ID = 0x0020;
const KDF_ID = 0x0001;
const AEAD_ID = 0x0001;
const HPKE_V1 = utf8.encode('HPKE-v1');
const ENTRY_VERSION = 1;
const ENTRY_INFO = utf8.encode('openzone visitor log v1');
const N_ENC = 32;
// PKCS #8 wrapping of a raw X25519 private key (RFC 8410): SEQUENCE { 0, { id-X25519 }, OCTET STRING {
// OCTET STRING key } }.
const PKCS8_X25519_PREFIX = hex('302e020100300506032b656e04220420');

function hex(text) {
  const clean = text.trim();
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error('not hex');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function u16(n) {
  return Uint8Array.of(n >> 8, n & 0xff);
}

function b64urlDecode(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}

const KEM_SUITE = concat(utf8.encode('KEM'), u16(KEM_ID));
const HPKE_SUITE = concat(utf8.encode('HPKE'), u16(KEM_ID), u16(KDF_ID), u16(AEAD_ID));

// Extract(salt, ikm) = HMAC-SHA256(salt, ikm); an empty salt is 32 zeros (RFC 5869; Web Crypto refuses
// empty HMAC keys, and HMAC pads both the same).
async function extract(salt, ikm) {
  const key = await crypto.subtle.importKey('raw', salt.length ? salt : new Uint8Array(32),
    { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, ikm));
}

async function expand(prk, info, length) {
  const key = await crypto.subtle.importKey('raw', prk, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  let t = new Uint8Array(0);
  let out = new Uint8Array(0);
  for (let i = 1; out.length < length; i++) {
    t = new Uint8Array(await crypto.subtle.sign('HMAC', key, concat(t, info, Uint8Array.of(i))));
    out = concat(out, t);
  }
  return out.slice(0, length);
}

const labeledExtract = (suite, salt, label, ikm) =>
  extract(salt, concat(HPKE_V1, suite, utf8.encode(label), ikm));
const labeledExpand = (suite, prk, label, info, length) =>
  expand(prk, concat(u16(length), HPKE_V1, suite, utf8.encode(label), info), length);

// The recipient's key pair from its raw 32-byte secret.
async function recipient(secret) {
  const privateKey = await crypto.subtle.importKey('pkcs8', concat(PKCS8_X25519_PREFIX, secret),
    { name: 'X25519' }, true, ['deriveBits']);
  const jwk = await crypto.subtle.exportKey('jwk', privateKey);
  return { privateKey, publicKey: b64urlDecode(jwk.x) };
}

// Decap(enc, skR) and KeySchedule(mode_base, shared_secret, info): the AEAD key and base nonce.
async function setup(recipientKeys, enc, info) {
  const pkE = await crypto.subtle.importKey('raw', enc, { name: 'X25519' }, false, []);
  const dh = new Uint8Array(await crypto.subtle.deriveBits({ name: 'X25519', public: pkE },
    recipientKeys.privateKey, 256));
  if (dh.every((b) => b === 0)) throw new Error('small-order key');
  const kemContext = concat(enc, recipientKeys.publicKey);
  const eaePrk = await labeledExtract(KEM_SUITE, new Uint8Array(0), 'eae_prk', dh);
  const sharedSecret = await labeledExpand(KEM_SUITE, eaePrk, 'shared_secret', kemContext, 32);
  const pskIdHash = await labeledExtract(HPKE_SUITE, new Uint8Array(0), 'psk_id_hash', new Uint8Array(0));
  const infoHash = await labeledExtract(HPKE_SUITE, new Uint8Array(0), 'info_hash', info);
  const context = concat(Uint8Array.of(0), pskIdHash, infoHash);
  const secret = await labeledExtract(HPKE_SUITE, sharedSecret, 'secret', new Uint8Array(0));
  return {
    sharedSecret,
    key: await labeledExpand(HPKE_SUITE, secret, 'key', context, 16),
    baseNonce: await labeledExpand(HPKE_SUITE, secret, 'base_nonce', context, 12),
  };
}

// Single-shot Open(enc, skR, info, aad, ct) in base mode (sequence number 0).
async function open(recipientKeys, enc, info, aad, ct) {
  const { key, baseNonce } = await setup(recipientKeys, enc, info);
  const aes = await crypto.subtle.importKey('raw', key, { name: 'AES-GCM' }, false, ['decrypt']);
  return new Uint8Array(await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: baseNonce, additionalData: aad, tagLength: 128 }, aes, ct));
}

// For the page's test: the RFC's vector through the same functions.
window.openzoneHpke = {
  async setup(skHex, encHex, infoHex) {
    const s = await setup(await recipient(hex(skHex)), hex(encHex), hex(infoHex));
    const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return { shared_secret: toHex(s.sharedSecret), key: toHex(s.key), base_nonce: toHex(s.baseNonce) };
  },
  async open(skHex, encHex, infoHex, aadHex, ctHex) {
    const pt = await open(await recipient(hex(skHex)), hex(encHex), hex(infoHex), hex(aadHex), hex(ctHex));
    return Array.from(pt, (x) => x.toString(16).padStart(2, '0')).join('');
  },
};

const DECLARATIONS = {
  clear: 'Không triệu chứng · clear',
  symptoms: 'Có triệu chứng · symptoms',
  none: 'Chưa khai báo · none',
};

// A sealed entry opened and checked, or null when it does not open or is not an entry.
async function openEntry(keys, venueHash, sealed) {
  try {
    if (sealed.length < 1 + N_ENC + 16 || sealed[0] !== ENTRY_VERSION) return null;
    const plain = await open(keys, sealed.slice(1, 1 + N_ENC), ENTRY_INFO, venueHash, sealed.slice(1 + N_ENC));
    const entry = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain));
    const ok = entry && entry.v === 1 && typeof entry.name === 'string' && entry.name.trim() !== ''
      && Number.isSafeInteger(entry.time) && entry.declaration in DECLARATIONS;
    return ok ? entry : null;
  } catch {
    return null;
  }
}

async function readFiles(files) {
  let venue = null;
  let secret = null;
  for (const file of files) {
    const text = await file.text();
    if (file.name.endsWith('.json')) venue = JSON.parse(text);
    else secret = hex(text);
  }
  if (!venue || !venue.location_id_hash) throw new Error('venue.json?');
  if (!secret || secret.length !== 32) throw new Error('visitor-log.key?');
  return { venueHash: hex(venue.location_id_hash), hashHex: venue.location_id_hash.trim(), secret };
}

const two = (n) => String(n).padStart(2, '0');
const localTime = (secs) => {
  const d = new Date(secs * 1000);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
};

function csvCell(value) {
  const text = value ?? '';
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

let shown = [];

async function load(event) {
  event.preventDefault();
  const status = document.getElementById('status');
  const body = document.querySelector('#entries tbody');
  const symptomList = document.getElementById('symptom-list');
  body.replaceChildren();
  symptomList.replaceChildren();
  shown = [];
  try {
    const { venueHash, hashHex, secret } = await readFiles(document.getElementById('files').files);
    const keys = await recipient(secret);
    const [y, m, d] = document.getElementById('day').value.split('-').map(Number);
    const since = new Date(y, m - 1, d).getTime();
    const until = new Date(y, m - 1, d + 1).getTime();
    const response = await fetch(`/v1/inbox/${hashHex}?since=${since}&until=${until}`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const { entries } = await response.json();
    let skipped = 0;
    for (const item of entries) {
      const entry = await openEntry(keys, venueHash, Uint8Array.from(atob(item.entry), (c) => c.charCodeAt(0)));
      if (entry) shown.push(entry); else skipped += 1;
    }
    shown.sort((a, b) => a.time - b.time);
    for (const e of shown) {
      const row = body.insertRow();
      row.className = e.declaration;
      for (const text of [localTime(e.time), e.name, e.class ?? '', e.phone ?? '', DECLARATIONS[e.declaration],
        `${e.kind} ${e.direction}`]) {
        row.insertCell().textContent = text;
      }
      if (e.declaration === 'symptoms') {
        const li = document.createElement('li');
        li.textContent = `${e.name}${e.class ? ` (${e.class})` : ''} · ${localTime(e.time)}`;
        symptomList.append(li);
      }
    }
    document.getElementById('symptoms-section').hidden = symptomList.children.length === 0;
    document.getElementById('csv').disabled = shown.length === 0;
    status.textContent = `${shown.length} lượt ghi · entries` + (skipped ? `; bỏ qua ${skipped} · skipped ${skipped}` : '');
    status.dataset.entries = String(shown.length);
    status.dataset.skipped = String(skipped);
  } catch (e) {
    status.textContent = `Không mở được sổ · The log cannot be opened: ${e.message}`;
    status.dataset.error = e.message;
  }
}

function exportCsv() {
  const lines = ['time,name,class,phone,declaration,kind,direction,purpose'];
  for (const e of shown) {
    lines.push([localTime(e.time), e.name, e.class, e.phone, e.declaration, e.kind, e.direction, e.purpose]
      .map(csvCell).join(','));
  }
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([lines.join('\n') + '\n'], { type: 'text/csv;charset=utf-8' }));
  link.download = `visitor-log-${document.getElementById('day').value}.csv`;
  link.click();
}

const today = new Date();
document.getElementById('day').value = `${today.getFullYear()}-${two(today.getMonth() + 1)}-${two(today.getDate())}`;
document.getElementById('open-log').addEventListener('submit', load);
document.getElementById('csv').addEventListener('click', exportCsv);
