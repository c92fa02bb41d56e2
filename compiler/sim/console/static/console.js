// The flowc sim console: renders the snapshots the server pushes over server-sent events, and sends what the
// person does (place a call, press keys, hang up, steer a conference, move the clock) as JSON requests.
// Everything shown is set with textContent, never parsed as HTML, except the sequence diagram's SVG, which
// the server draws with every label escaped.
'use strict';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];
const $ = (selector, root = document) => root.querySelector(selector);
let latest = null;
let sequenceShownFor = '';

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function clock(seconds) {
  const minutes = Math.floor(seconds / 60);
  const rest = (seconds - minutes * 60).toFixed(3).padStart(6, '0');
  return `${String(minutes).padStart(2, '0')}:${rest}`;
}

function shortId(id) { return id ? id.slice(0, 11) + '…' + id.slice(-4) : ''; }

async function send(method, url, body = {}) {
  const response = await fetch(url, {method, headers: {'content-type': 'application/json'}, body: JSON.stringify(body)});
  const answer = await response.json().catch(() => ({}));
  const status = answer && answer.status;
  if (!response.ok) problem(answer.error || `${method} ${url}: ${response.status}`);
  else if (typeof status === 'number' && status >= 400) problem(`REST ${method}: ${status} ${JSON.stringify(answer.body)}`);
  else problem('');
  return answer;
}

function problem(text) { $('#problem').textContent = text; }

// -- focus survives re-rendering: every control carries a data-key, and the focused one is found again --------

function rerender(container, build) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.key : null;
  container.replaceChildren(...build());
  if (key) {
    const again = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
}

// -- calls -------------------------------------------------------------------------------------------------

function callCard(call) {
  let card = document.getElementById(`call-${call.id}`);
  if (!card) {
    card = element('article', {id: `call-${call.id}`, class: 'call', 'data-call': call.id,
                               'aria-labelledby': `call-${call.id}-title`});
    const pad = element('div', {class: 'dialpad', role: 'group', 'aria-label': `Dial pad of the call from ${call.from}`});
    for (const key of KEYS) {
      pad.append(element('button', {type: 'button', 'data-digit': key, 'aria-label': `press ${key}`, text: key,
                                    onclick: () => press(call.id, key)}));
    }
    card.append(
      element('h3', {id: `call-${call.id}-title`, text: `Call from ${call.from} to ${call.to}`}),
      element('p', {class: 'ident', text: call.id}),
      element('p', {}, 'State: ', element('strong', {class: 'state'}), ' · now: ', element('span', {class: 'waiting'})),
      element('h4', {text: 'Heard'}),
      element('ol', {class: 'heard', 'aria-live': 'polite', 'aria-label': `What the call from ${call.from} heard`}),
      pad,
      element('div', {class: 'actions'},
              element('button', {type: 'button', class: 'hangup', text: 'Hang up', onclick: () => send('POST', `/api/calls/${call.id}/hangup`)}),
              element('button', {type: 'button', class: 'show-sequence', text: 'Sequence diagram', onclick: () => showSequence(call.id)})),
    );
    card.addEventListener('keydown', (event) => {
      const typing = ['INPUT', 'SELECT', 'TEXTAREA'].includes(event.target.tagName);
      if (typing || event.ctrlKey || event.metaKey || event.altKey || !KEYS.includes(event.key)) return;
      event.preventDefault();
      press(call.id, event.key);
    });
    $('#calls').append(card);
  }
  card.classList.toggle('completed', call.state !== 'active');
  $('.state', card).textContent = call.state + (call.cause ? ` (${call.cause})` : '');
  $('.waiting', card).textContent = call.waiting;
  for (const button of card.querySelectorAll('.dialpad button, .hangup')) button.disabled = call.state !== 'active';
  const list = $('.heard', card);
  for (const heard of call.heard.slice(list.children.length)) list.append(heardItem(heard));
}

function heardItem(heard) {
  const where = heard.conference ? ' (conference)' : '';
  const time = element('span', {class: 'time', text: clock(heard.time) + ' '});
  if (heard.media === 'speech') return element('li', {class: 'speech'}, time, `“${heard.text}”${where}`);
  const playable = /^https?:\/\//i.test(heard.text);
  const link = playable ? element('a', {href: heard.text, target: '_blank', rel: 'noopener noreferrer', text: `▶ ${heard.text}`})
                        : element('span', {text: heard.text});
  return element('li', {class: 'audio'}, time, 'audio ', link, where);
}

function press(callId, digit) {
  const button = document.querySelector(`#call-${CSS.escape(callId)} [data-digit="${CSS.escape(digit)}"]`);
  if (button) { button.classList.add('pressed'); setTimeout(() => button.classList.remove('pressed'), 200); }
  return send('POST', `/api/calls/${callId}/press`, {digits: digit});
}

// -- conferences -------------------------------------------------------------------------------------------

function label(callId, calls) {
  const call = calls.find((c) => c.id === callId);
  return call ? `${call.from} (${shortId(callId)})` : shortId(callId);
}

function conferenceCard(conference, calls) {
  let card = document.getElementById(`conference-${conference.id}`);
  if (!card) {
    card = element('article', {id: `conference-${conference.id}`, class: 'conference', 'data-conference': conference.id,
                               'aria-labelledby': `conference-${conference.id}-title`});
    card.append(element('h3', {id: `conference-${conference.id}-title`, text: `Conference ${conference.name}`}),
                element('p', {class: 'ident'}), element('div', {class: 'body'}));
    $('#conferences').append(card);
  }
  const text = JSON.stringify([conference, calls.map((c) => [c.id, c.from])]);
  if (card.dataset.shown === text) return;
  card.dataset.shown = text;
  $('.ident', card).textContent = `${conference.id} · ${conference.state} · ${conference.members.length} member(s)`;
  rerender($('.body', card), () => conferenceBody(conference, calls));
}

function conferenceBody(conference, calls) {
  const path = (callId) => `/api/conferences/${conference.id}/members/${callId}`;
  const rows = conference.members.map((member) => {
    const key = `${conference.id}/${member.call}`;
    const others = conference.members.map((m) => m.call).filter((id) => id !== member.call);
    const coaching = member.coaching.length ? member.coaching.map((id) => label(id, calls)).join(', ') : '—';
    return element('tr', {'data-member': member.call},
      element('th', {scope: 'row', text: label(member.call, calls)}),
      element('td', {class: 'role', text: member.role}),
      element('td', {class: 'mute', text: member.mute ? 'muted' : 'no'}),
      element('td', {class: 'hold', text: member.hold ? 'on hold' : 'no'}),
      element('td', {class: 'coaching', text: coaching}),
      element('td', {}, element('div', {class: 'buttons'},
        element('button', {type: 'button', 'data-key': `${key}/mute`, 'data-action': 'mute',
                           text: member.mute ? 'Unmute' : 'Mute', onclick: () => send('PUT', path(member.call), {mute: !member.mute})}),
        element('button', {type: 'button', 'data-key': `${key}/hold`, 'data-action': 'hold',
                           text: member.hold ? 'Release from hold' : 'Hold', onclick: () => send('PUT', path(member.call), {hold: !member.hold})}),
        element('button', {type: 'button', 'data-key': `${key}/coach`, 'data-action': 'coach',
                           text: member.role === 'coach' ? 'Coach nobody' : 'Coach the others',
                           disabled: !others.length || (conference.coach && conference.coach !== member.call),
                           onclick: () => send('PUT', path(member.call), {callIdsToCoach: member.role === 'coach' ? [] : others})}))));
  });
  const members = element('table', {class: 'members'},
    element('caption', {text: 'Members'}),
    element('tr', {}, ...['Call', 'Role', 'Muted', 'Held', 'Coaches', 'Controls'].map((h) => element('th', {scope: 'col', text: h}))),
    ...rows);
  const ids = conference.matrix.calls;
  const matrix = element('table', {class: 'matrix'},
    element('caption', {text: 'Who hears whom (each row hears the columns marked yes)'}),
    element('tr', {}, element('th', {scope: 'col', text: 'listener \\ speaker'}),
            ...ids.map((id) => element('th', {scope: 'col', text: label(id, calls)}))),
    ...ids.map((listener, row) => element('tr', {'data-listener': listener},
      element('th', {scope: 'row', text: label(listener, calls)}),
      ...ids.map((speaker, column) => {
        const hears = conference.matrix.hears[row][column];
        const text = hears === null ? '—' : (hears ? 'yes' : 'no');
        return element('td', {'data-speaker': speaker, class: hears === null ? 'self' : (hears ? 'yes' : 'no'), text});
      }))));
  const lobby = element('ul', {class: 'lobby'},
    ...(conference.lobby.length ? conference.lobby.map((id) => element('li', {text: `${label(id, calls)}: on hold, waiting to be let in`}))
                                : [element('li', {text: 'nobody waiting'})]));
  const end = element('button', {type: 'button', class: 'end', 'data-key': `${conference.id}/end`, text: 'End the conference',
                                 disabled: conference.state !== 'active',
                                 onclick: () => send('POST', `/api/conferences/${conference.id}/end`)});
  return [members, matrix, element('h4', {text: 'Lobby'}), lobby, end];
}

// -- timeline ----------------------------------------------------------------------------------------------

function renderTimeline(state) {
  const filter = $('#timeline-filter');
  const wanted = filter.value;
  const options = [['', 'every call'], ...state.calls.map((c) => [c.id, `call from ${c.from} (${shortId(c.id)})`])];
  if (filter.options.length !== options.length) {
    filter.replaceChildren(...options.map(([value, text]) => element('option', {value, text})));
    filter.value = wanted;
  }
  const entries = state.timeline.filter((e) => !wanted || e.calls.includes(wanted));
  const body = $('#timeline tbody');
  const shown = JSON.stringify([wanted, entries.length, state.timeline.length]);
  if (body.dataset.shown === shown) return;
  body.dataset.shown = shown;
  const open = new Set([...body.querySelectorAll('details[open]')].map((d) => d.dataset.key));
  rerender(body, () => entries.map((entry) => timelineRow(entry, open)));
}

function timelineRow(entry, open) {
  const status = entry.status === null ? 'no answer' : String(entry.status);
  const result = entry.accepted ? 'accepted' : (entry.kind === 'webhook' ? `refused: ${entry.reason}` : 'error');
  const what = entry.kind === 'webhook' ? `webhook ${entry.event}` + (entry.fallback ? ' (fallback)' : '') : 'REST request';
  const key = `entry-${entry.index}`;
  const details = element('details', {'data-key': key, open: open.has(key) ? '' : null},
    element('summary', {text: 'payload and reply'}),
    element('h4', {text: entry.kind === 'webhook' ? 'Payload' : 'Body'}),
    element('pre', {class: 'payload', text: JSON.stringify(entry.payload, null, 2)}),
    element('h4', {text: 'Reply'}),
    element('pre', {class: 'reply', text: typeof entry.reply === 'string' ? entry.reply : JSON.stringify(entry.reply, null, 2)}));
  return element('tr', {class: `${entry.kind} ${entry.accepted ? 'accepted' : 'refused'}`, 'data-calls': entry.calls.join(' ')},
    element('td', {class: 'time', text: clock(entry.time)}),
    element('td', {text: what}),
    element('td', {class: 'request', text: `${entry.method} ${entry.url}`}),
    element('td', {class: 'status', text: status}),
    element('td', {class: 'result', text: result}),
    element('td', {}, details));
}

// -- sequence diagram --------------------------------------------------------------------------------------

function showSequence(callId) {
  $('#sequence-call').value = callId;
  sequenceShownFor = '';
  refreshSequence();
  $('#sequence').scrollIntoView({block: 'start'});
}

async function refreshSequence() {
  const callId = $('#sequence-call').value;
  const version = `${callId}/${latest ? latest.events : 0}`;
  if (!callId || version === sequenceShownFor) return;
  sequenceShownFor = version;
  const response = await fetch(`/api/calls/${encodeURIComponent(callId)}/sequence`);
  if (!response.ok) return;
  const diagram = await response.json();
  $('#sequence-svg').innerHTML = diagram.svg;  // drawn by the server with every label escaped
  $('#sequence-text').textContent = diagram.mermaid;
}

function renderSequenceChoice(state) {
  const select = $('#sequence-call');
  if (select.options.length !== state.calls.length) {
    const wanted = select.value || (state.calls[0] && state.calls[0].id) || '';
    select.replaceChildren(...state.calls.map((c) => element('option', {value: c.id, text: `call from ${c.from} (${shortId(c.id)})`})));
    select.value = wanted;
  }
  refreshSequence();
}

// -- the whole page ----------------------------------------------------------------------------------------

function render(state) {
  if (state.error) { problem(state.error); return; }
  latest = state;
  $('#now').textContent = clock(state.now);
  $('#realtime').checked = state.realtime;
  $('#no-calls').hidden = state.calls.length > 0;
  $('#no-conferences').hidden = state.conferences.length > 0;
  for (const call of state.calls) callCard(call);
  for (const conference of state.conferences) conferenceCard(conference, state.calls);
  renderTimeline(state);
  renderSequenceChoice(state);
  document.body.dataset.events = String(state.events);
}

async function start() {
  const info = await (await fetch('/api/info')).json();
  $('#target').textContent = info.target;
  const flows = $('#flow');
  flows.replaceChildren(...info.flows.map((name) => element('option', {value: name, text: name})));
  if (!info.flows.length) flows.append(element('option', {value: '', text: '(give a path)'}));
  $('#call-form').addEventListener('submit', (event) => {
    event.preventDefault();
    send('POST', '/api/calls', {flow: flows.value, path: $('#path').value, from: $('#from').value, to: $('#to').value});
  });
  $('#clock-form').addEventListener('submit', (event) => {
    event.preventDefault();
    send('POST', '/api/clock', {advance: Number($('#advance-seconds').value)});
  });
  $('#realtime').addEventListener('change', (event) => send('POST', '/api/clock', {realtime: event.target.checked}));
  $('#timeline-filter').addEventListener('change', () => latest && renderTimeline(latest));
  $('#sequence-call').addEventListener('change', () => { sequenceShownFor = ''; refreshSequence(); });
  const stream = new EventSource('/api/stream');
  stream.onopen = () => { $('#connection').textContent = 'live'; };
  stream.onerror = () => { $('#connection').textContent = 'disconnected, retrying…'; };
  stream.onmessage = (message) => render(JSON.parse(message.data));
}

start();
