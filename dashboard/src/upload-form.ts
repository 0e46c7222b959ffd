// Uploading a CSV or JSON file from the table view: a multipart storeImport; the new flow opens when done.
// The server stores the rows while they arrive, so sending is only the start: the bar follows what the
// server has read and stored (Query.importProgress, asked by the upload's idempotency key while the
// request is open), not what the browser has handed to the network.
import type { Api } from './api';
import { h } from './dom';
import { count, plural } from './format';
import { DashboardImportProgressDocument, DashboardUploadDocument, type DashboardUploadMutation } from './generated/graphql';

const PROGRESS_EVERY_MS = 250;

/** A key no other upload has: 128 random bits (crypto.randomUUID needs a secure context; this does not). */
function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `dashboard-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

export function uploadForm(api: Api, opened: (flowId: string) => void): HTMLElement {
  const progress = h('progress', { max: 1, value: 0, hidden: true, 'data-testid': 'upload-progress' });
  const message = h('span', { class: 'upload-status', role: 'status', 'data-testid': 'upload-status' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Upload');

  const send = async (file: File, importType: string) => {
    const idempotencyKey = newIdempotencyKey();
    let sent = 0;
    let stored: { rowsStored: number; bytesRead: number | null } | null = null;
    const show = () => {
      const share = stored?.bytesRead != null && file.size > 0 ? Math.min(1, stored.bytesRead / file.size) : 0;
      progress.value = share;
      message.textContent = stored
        ? `${sent < 1 ? `sending ${Math.round(sent * 100)} % · ` : ''}storing: ${plural(stored.rowsStored, 'row')} stored (${Math.round(share * 100)} %)`
        : sent < 1 ? `sending ${Math.round(sent * 100)} %` : 'sent; storing…';
    };
    let finished = false;
    const poll = async () => {
      while (!finished) {
        await new Promise((resolve) => setTimeout(resolve, PROGRESS_EVERY_MS));
        if (finished) return;
        try {
          const report = (await api.request(DashboardImportProgressDocument, { idempotencyKey })).importProgress;
          if (report && !finished) {
            stored = report;
            show();
          }
        } catch {
          // Progress is a courtesy: the upload's own answer says how it went.
        }
      }
    };
    show();
    void poll();
    try {
      const { storeImport } = await api.upload<DashboardUploadMutation>(
        DashboardUploadDocument.toString(),
        { input: { file: null, filename: file.name, importType, idempotencyKey } },
        'variables.input.file',
        file,
        (share) => {
          sent = share;
          show();
        },
      );
      finished = true;
      if (storeImport.__typename === 'MasterFlow') {
        progress.value = 1;
        message.textContent = `imported ${plural(storeImport.rawRecordCount, 'row')}${storeImport.invalidRecordCount ? ` (${count(storeImport.invalidRecordCount)} invalid)` : ''}`;
        opened(storeImport.flowId);
      } else {
        message.textContent = 'message' in storeImport ? storeImport.message : 'the import was refused';
      }
    } finally {
      finished = true;
      progress.hidden = true;
    }
  };

  const form = h('form', {
    class: 'upload',
    'data-testid': 'upload-form',
    onsubmit: (event: Event) => {
      event.preventDefault();
      const data = new FormData(form);
      const file = data.get('file');
      if (!(file instanceof File) || file.size === 0) {
        message.textContent = 'Choose a file first.';
        return;
      }
      progress.hidden = false;
      progress.value = 0;
      submit.disabled = true;
      send(file, String(data.get('importType') || 'servers'))
        .catch((error: unknown) => (message.textContent = (error as Error).message))
        .finally(() => (submit.disabled = false));
    },
  },
    h('strong', {}, 'Import a file'),
    h('input', { type: 'file', name: 'file', accept: '.csv,.json,text/csv,application/json' }),
    h('label', {}, 'type ', h('input', { name: 'importType', value: 'servers', size: 10 })),
    submit,
    progress,
    message,
  );
  return form;
}
