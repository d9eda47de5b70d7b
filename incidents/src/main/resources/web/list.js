// The incident list: filters from the page's own query string, one page of the API's answer.
import {apiGet, withToken} from './api.js';
import {el, grouped, shortId, utc} from './dom.js';

const FILTERS = ['since', 'until', 'container', 'host', 'namespace', 'signature', 'status'];
const PAGING = ['limit', 'offset'];

/** The API query: the known parameters of this page's URL, without empty ones. */
function searchParameters() {
  const here = new URLSearchParams(location.search);
  const search = new URLSearchParams();
  for (const name of [...FILTERS, ...PAGING]) {
    const value = here.get(name);
    if (value) {
      search.set(name, value);
    }
  }
  return search;
}

function fillFilterForm(search) {
  const form = document.getElementById('filters');
  for (const name of FILTERS) {
    form.elements[name].value = search.get(name) || '';
  }
  form.addEventListener('submit', event => {
    event.preventDefault();
    const chosen = new URLSearchParams();
    for (const name of FILTERS) {
      const value = form.elements[name].value.trim();
      if (value) {
        chosen.set(name, value);
      }
    }
    const query = chosen.toString();
    location.assign('/' + (query ? '?' + query : ''));
  });
}

function row(incident) {
  const open = incident.status === 'OPEN';
  const link = '/incidents/' + encodeURIComponent(incident.incidentId);
  return el('tr', {class: open ? 'open' : 'resolved', 'data-incident-id': incident.incidentId},
    el('td', {}, el('span', {class: 'badge ' + (open ? 'open' : 'resolved')}, open ? 'OPEN' : 'resolved')),
    el('td', {}, el('a', {href: link}, utc(incident.detectedAt))),
    el('td', {}, el('a', {href: link, class: 'container-id', title: incident.containerId},
      el('code', {}, shortId(incident.containerId)))),
    el('td', {}, incident.host, incident.pod ? el('div', {class: 'sub'}, incident.pod) : null),
    el('td', {}, incident.namespace ?? '—'),
    el('td', {}, el('code', {}, incident.signatureId)),
    el('td', {}, incident.runtimeVersion ?? '—'),
    el('td', {class: 'number'}, incident.cpuCoresAfterDrain.toFixed(2) + ' cores'));
}

function pager(page, search) {
  const limit = page.limit;
  const newer = document.getElementById('newer');
  if (page.offset > 0) {
    const previous = new URLSearchParams(search);
    previous.set('offset', String(Math.max(0, page.offset - limit)));
    newer.href = '/?' + previous;
    newer.hidden = false;
  }
  const older = document.getElementById('older');
  if (page.next) {
    // the API's next link: the same search with its times fixed, so pages do not shift
    older.href = '/?' + page.next.slice(page.next.indexOf('?') + 1);
    older.hidden = false;
  }
}

async function load() {
  const search = searchParameters();
  const page = await (await apiGet('/api/v1/incidents?' + search)).json();
  const body = document.querySelector('#incidents tbody');
  body.replaceChildren(...page.incidents.map(row));
  const open = page.incidents.filter(i => i.status === 'OPEN').length;
  document.getElementById('summary').textContent = page.total === 0 ? 'No incidents match.'
    : page.incidents.length === 0 ? `No incidents past the first ${grouped(page.offset)}; ${grouped(page.total)} match.`
    : `Incidents ${grouped(page.offset + 1)}–${grouped(page.offset + page.incidents.length)} of ${grouped(page.total)}`
      + `, newest first; ${open} open on this page.`;
  pager(page, search);
}

fillFilterForm(searchParameters());
withToken(load, {keepContentOnError: true});
