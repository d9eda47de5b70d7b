// One incident: where, when, how sure, which bug, and the evidence as an interactive flame graph.
import {apiGet, showError, withToken} from './api.js';
import {duration, el, grouped, percent, setText, shortId, utc, webUrl} from './dom.js';
import {FlameGraph} from './flamegraph.js';

const PREFIX = '/incidents/';
const incidentId = decodeURIComponent(location.pathname.slice(PREFIX.length));
const apiPath = '/api/v1/incidents/' + encodeURIComponent(incidentId);

const DRAINED_BY = {requests: 'requests fell to almost none', event: 'a DRAINED traffic event'};
const RESOLVED_BY = {
  'healthy-windows': 'CPU back to normal for three windows',
  'restored': 'traffic restored with healthy CPU',
  'silence': 'no data from the container for five minutes',
};

let flameGraph = null;

function timeline(incident) {
  const start = Date.parse(incident.spikeStartedAt);
  const steps = [
    ['spike', incident.spikeStartedAt, 'Timeouts spiked',
      `${grouped(incident.timeoutsAtSpike)} upstream timeouts in ${grouped(incident.requestsAtSpike)} requests`],
    ['drain', incident.drainedAt, 'Traffic drained', 'by ' + (DRAINED_BY[incident.drainedBy] ?? incident.drainedBy)],
    ['stuck', incident.stuckSince, 'Stuck',
      `${incident.cpuCoresAfterDrain.toFixed(2)} cores busy with no traffic, ${percent(incident.signatureShare)} in `
        + 'the signature\'s stacks'],
    ['detected', incident.detectedAt, 'Detected',
      `alert sent ${duration(Date.parse(incident.detectedAt) - Date.parse(incident.drainedAt))} after the drain`],
  ];
  if (incident.resolvedAt) {
    steps.push(['resolved', incident.resolvedAt, 'Resolved',
      RESOLVED_BY[incident.resolveReason] ?? incident.resolveReason ?? '']);
  } else {
    steps.push(['open', null, 'Still open', 'no resolution yet']);
  }
  return steps.map(([kind, at, title, what]) => el('li', {class: 'step ' + kind},
    el('span', {class: 'when'}, at ? utc(at) : 'now'),
    el('span', {class: 'offset'}, at ? '+' + duration(Date.parse(at) - start) : ''),
    el('strong', {}, title),
    el('span', {class: 'what'}, what)));
}

function numbers(incident) {
  const rows = [
    ['CPU before the drain', `${incident.cpuCoresBeforeDrain.toFixed(2)} cores`, 'mean over the spike windows'],
    ['CPU after the drain', `${incident.cpuCoresAfterDrain.toFixed(2)} cores`, 'while no requests ran'],
    ['Signature share', percent(incident.signatureShare), 'of the CPU samples after the drain'],
    ['Timeouts at the spike', grouped(incident.timeoutsAtSpike),
      `of ${grouped(incident.requestsAtSpike)} requests`
        + (incident.requestsAtSpike > 0 ? ` (${percent(incident.timeoutsAtSpike / incident.requestsAtSpike)})` : '')],
  ];
  return rows.flatMap(([name, value, note]) => [
    el('dt', {}, name),
    el('dd', {}, el('span', {class: 'value'}, value), ' ', el('span', {class: 'note'}, note))]);
}

function issue(knownIssue, runtimeVersion) {
  const url = webUrl(knownIssue.url);
  return el('li', {},
    url ? el('a', {href: url, rel: 'noopener noreferrer', target: '_blank'}, knownIssue.id) : knownIssue.id,
    ': ', knownIssue.title,
    knownIssue.fixedIn ? el('span', {class: 'note'}, ` — fixed in ${knownIssue.fixedIn}`) : null,
    knownIssue.versionAffected && runtimeVersion
      ? el('span', {class: 'badge open'}, `${runtimeVersion} is affected`) : null);
}

function stackRow(stack) {
  const frames = stack.folded.split(';');
  const leafFirst = [...frames].reverse();
  return el('tr', {},
    el('td', {class: 'number'}, percent(stack.share)),
    el('td', {class: 'number'}, grouped(stack.weight)),
    el('td', {},
      el('details', {},
        el('summary', {}, el('code', {}, leafFirst.slice(0, 3).join(' ← ')),
          frames.length > 3 ? el('span', {class: 'note'}, ` … ${frames.length} frames`) : null),
        el('ol', {class: 'frames', reversed: ''}, ...leafFirst.map(frame => el('li', {}, el('code', {}, frame)))))));
}

function describeFrame(node, root) {
  return `${node.name}: ${percent(node.weight / root.weight)} of the evidence (weight ${grouped(node.weight)})`;
}

function render(incident) {
  const open = incident.status === 'OPEN';
  document.title = `${shortId(incident.containerId)} on ${incident.host} · Stallwatch`;
  const status = document.getElementById('status');
  status.textContent = open ? 'OPEN' : 'resolved';
  status.className = 'badge ' + (open ? 'open' : 'resolved');
  setText('title', incident.signatureTitle);
  setText('container-id', incident.containerId);
  setText('host', incident.host);
  setText('pod', incident.pod);
  setText('namespace', incident.namespace);
  setText('signature', incident.signatureId);
  setText('incident-id', incident.incidentId);
  document.getElementById('timeline').replaceChildren(...timeline(incident));
  document.getElementById('numbers').replaceChildren(...numbers(incident));
  setText('runtime', incident.runtimeVersion ?? 'unknown (the collector could not read it)');
  const issues = incident.knownIssues.map(i => issue(i, incident.runtimeVersion));
  document.getElementById('issues').replaceChildren(...(issues.length ? issues : [el('li', {}, 'none known')]));
  setText('remediation', incident.remediation ?? 'none given by the signature');
  document.querySelector('#stacks tbody').replaceChildren(...incident.topStacks.map(stackRow));
  flameGraph = new FlameGraph(document.getElementById('flamegraph'), document.getElementById('flame-details'),
    incident.topStacks, describeFrame);
}

async function downloadSvg() {
  try {
    const blob = await (await apiGet(apiPath + '/flamegraph.svg')).blob();
    const url = URL.createObjectURL(blob);
    const link = el('a', {href: url, download: `incident-${incidentId}.svg`});
    document.body.append(link);
    link.click();
    link.remove();
    // revoking at once can cancel the download before it read the blob
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (e) {
    showError(e.message);
  }
}

async function load() {
  render(await (await apiGet(apiPath)).json());
}

document.getElementById('flame-reset').addEventListener('click', () => flameGraph?.reset());
document.getElementById('flame-download').addEventListener('click', downloadSvg);
withToken(load);
