// Uploading a CSV from the table view: a multipart storeImport with progress; the new flow opens when done.
import type { Api } from './api';
import { h } from './dom';
import { DashboardUploadDocument } from './generated/graphql';

export function uploadForm(api: Api, opened: (flowId: string) => void): HTMLElement {
  const progress = h('progress', { max: 1, value: 0, hidden: true });
  const message = h('span', { class: 'upload-status', role: 'status', 'data-testid': 'upload-status' });
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
      message.textContent = 'uploading…';
      const input = { file: null, filename: file.name, importType: String(data.get('importType') || 'servers') };
      api
        .upload<{ storeImport: { __typename: string; message?: string; flowId?: string } }>(
          DashboardUploadDocument.toString(),
          { input },
          'variables.input.file',
          file,
          (share) => (progress.value = share),
        )
        .then(({ storeImport }) => {
          if (storeImport.__typename === 'MasterFlow' && storeImport.flowId) {
            message.textContent = 'imported';
            opened(storeImport.flowId);
          } else message.textContent = storeImport.message ?? 'the import was refused';
        })
        .catch((error: unknown) => (message.textContent = (error as Error).message))
        .finally(() => (progress.hidden = true));
    },
  },
    h('strong', {}, 'Import a file'),
    h('input', { type: 'file', name: 'file', accept: '.csv,.json,text/csv,application/json' }),
    h('label', {}, 'type ', h('input', { name: 'importType', value: 'servers', size: 10 })),
    h('button', { type: 'submit', class: 'primary' }, 'Upload'),
    progress,
    message,
  );
  return form;
}
