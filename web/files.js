// Files and inline images (API.md "Files and images"): uploads with progress, attachments in messages (images inline
// from blob URLs fetched with the token, other files as download chips) and a simple full-image viewer.
'use strict';
window.Konnect = window.Konnect || {};

(function (K) {
  const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
  const MAX_INLINE_PX = 320;
  let api = null;  // set by init(): every file is fetched with its token
  const blobUrls = new WeakMap();  // element → blob URL, revoked when the element leaves the DOM

  function humanSize(bytes) {
    if (!Number.isFinite(bytes)) return '';
    if (bytes < 1024) return `${bytes} B`;
    const units = ['KB', 'MB', 'GB'];
    let value = bytes / 1024, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
  }

  function isImage(file) { return IMAGE_TYPES.has(file.type) && file.width > 0 && file.height > 0; }

  /** The bytes of a file as a Blob, fetched with the bearer token (a plain <img src> could not send it). */
  async function fetchBlob(id) {
    const headers = api && api.token ? { Authorization: `Bearer ${api.token}` } : {};
    let res;
    try {
      res = await fetch(`/files/${encodeURIComponent(id)}`, { headers, credentials: 'omit', cache: 'default' });
    } catch (_) {
      throw new K.ApiError(0, 'network', 'The server cannot be reached.');
    }
    if (!res.ok) {
      const data = await res.json().catch(() => null);
      throw new K.ApiError(res.status, (data && data.code) || `http_${res.status}`, data && data.detail);
    }
    return res.blob();
  }

  /** POST /files with the raw body; resolves to the file object. XMLHttpRequest for its upload progress. */
  function upload(file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `/files?${new URLSearchParams({ name: file.name || 'file' })}`);
      xhr.setRequestHeader('Accept', 'application/json');
      if (api.token) xhr.setRequestHeader('Authorization', `Bearer ${api.token}`);
      xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
      xhr.responseType = 'json';
      xhr.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable && event.total) onProgress(event.loaded / event.total);
      });
      xhr.addEventListener('load', () => {
        const data = xhr.response;
        if (xhr.status >= 200 && xhr.status < 300 && data && data.file) { onProgress(1); resolve(data.file); return; }
        const error = new K.ApiError(xhr.status, (data && data.code) || `http_${xhr.status}`, data && data.detail);
        if (xhr.status === 401 && api.token) api.onUnauthorized(error);
        reject(error);
      });
      const failed = () => reject(new K.ApiError(0, 'network', 'The upload failed: the server cannot be reached.'));
      xhr.addEventListener('error', failed);
      xhr.addEventListener('timeout', failed);
      xhr.send(file);
    });
  }

  /** The attachments of a message: one box per image (its size reserved before loading), chips for the rest. */
  function attachments(files) {
    const wrap = document.createElement('div');
    wrap.className = 'files';
    for (const file of files) wrap.append(isImage(file) ? imageBox(file) : chip(file));
    return wrap;
  }

  function imageBox(file) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'file-image loading';
    button.dataset.fileId = file.id;
    button.setAttribute('aria-label', `Open image ${file.name}`);
    // CSSOM (not a style attribute) so the strict CSP holds: the box has the image's ratio before any byte arrives.
    button.style.aspectRatio = `${file.width} / ${file.height}`;
    button.style.width = `${Math.min(file.width, MAX_INLINE_PX)}px`;
    const img = document.createElement('img');
    img.alt = file.name;
    img.width = file.width;
    img.height = file.height;
    img.decoding = 'async';
    button.append(img);
    button.addEventListener('click', () => { if (img.src) viewer.open(img.src, file, button); });
    fetchBlob(file.id).then((blob) => {
      if (!button.isConnected) return;  // gone before its bytes arrived: nothing to revoke later
      const url = URL.createObjectURL(blob);
      blobUrls.set(img, url);
      img.addEventListener('load', () => button.classList.remove('loading'), { once: true });
      img.src = url;
    }).catch((error) => {
      button.classList.remove('loading');
      button.classList.add('failed');
      button.title = `This image cannot be shown: ${error.message}`;
    });
    return button;
  }

  function chip(file) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'file-chip';
    button.dataset.fileId = file.id;
    const icon = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    icon.setAttribute('viewBox', '0 0 24 24');
    icon.setAttribute('aria-hidden', 'true');
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', 'M12 4v11M7 10.5l5 5 5-5M5 20h14');
    icon.append(path);
    const name = document.createElement('span');
    name.className = 'file-name';
    name.dir = 'auto';
    name.textContent = file.name;
    const size = document.createElement('span');
    size.className = 'file-size';
    size.textContent = humanSize(file.size);
    button.append(icon, name, size);
    button.setAttribute('aria-label', `Download ${file.name}, ${humanSize(file.size)}`);
    button.addEventListener('click', async () => {
      if (button.classList.contains('busy')) return;
      button.classList.add('busy');
      try {
        const url = URL.createObjectURL(await fetchBlob(file.id));
        const a = document.createElement('a');
        a.href = url;
        a.download = file.name;
        a.hidden = true;
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
        button.title = '';
      } catch (error) {
        button.title = `Download failed: ${error.message}`;
        const note = document.getElementById('composer-error');
        note.textContent = `Download failed: ${error.message}`;
        note.hidden = false;
      } finally {
        button.classList.remove('busy');
      }
    });
    return button;
  }

  /** Revokes the blob URLs of images that left the page (room switch, old messages dropped, redraws). */
  function watch(root) {
    new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.removedNodes) {
          if (node.nodeType !== 1) continue;
          for (const img of node.matches('img') ? [node] : node.querySelectorAll('img')) {
            const url = blobUrls.get(img);
            if (url && !img.isConnected) { URL.revokeObjectURL(url); blobUrls.delete(img); }
          }
        }
      }
    }).observe(root, { childList: true, subtree: true });
  }

  /** The full image over the page: Escape, the close button or a click outside closes it; focus goes back. */
  const viewer = {
    opener: null,
    open(src, file, opener) {
      const dialog = document.getElementById('viewer');
      const img = document.getElementById('viewer-image');
      img.src = src;
      img.alt = file.name;
      img.width = file.width;
      img.height = file.height;
      document.getElementById('viewer-name').textContent = `${file.name} · ${file.width}×${file.height} · ${humanSize(file.size)}`;
      this.opener = opener;
      dialog.showModal();
      document.getElementById('viewer-close').focus();
    },
    setup() {
      const dialog = document.getElementById('viewer');
      dialog.addEventListener('close', () => {
        document.getElementById('viewer-image').removeAttribute('src');
        if (this.opener && this.opener.isConnected) this.opener.focus();
        this.opener = null;
      });
      dialog.addEventListener('click', (event) => { if (event.target === dialog) dialog.close(); });
      document.getElementById('viewer-close').addEventListener('click', () => dialog.close());
    },
  };

  /**
   * The files waiting in the composer: each uploads as soon as it is added (with its progress shown). An upload
   * that fails for want of a network (or a 5xx/429) waits and tries again as retry.js says; one the server refuses
   * (413…) says the server's detail and blocks the send until removed. Send hands the files to the outbox (take()),
   * which posts the message once every upload is stored (issue 15: a message with files written offline is queued).
   */
  class Attachments {
    constructor() {
      this.items = [];
      this.list = document.getElementById('uploads');
    }

    get count() { return this.items.length; }

    add(fileList) {
      for (const file of fileList) {
        const item = { file, stored: null, error: null };
        item.node = this.row(item);
        item.done = this.store(item);
        this.items.push(item);
        this.list.append(item.node);
      }
      this.list.hidden = this.items.length === 0;
    }

    /** Uploads one file, again after each transient failure (never faster than retry.js allows). */
    async store(item) {
      const backoff = new K.retry.Backoff();
      for (;;) {
        try {
          item.stored = await upload(item.file, (fraction) => { item.progress.value = fraction; });
          item.node.classList.remove('waiting');
          item.node.classList.add('done');
          item.status.textContent = 'ready';
          return;
        } catch (error) {
          if (!(error instanceof K.ApiError)) throw error;
          if (!error.transient || error.status === 401 || item.dropped) {
            item.error = error;
            item.node.classList.remove('waiting');
            item.node.classList.add('failed');
            item.status.textContent = `failed: ${error.message}`;
            return;
          }
          item.node.classList.add('waiting');
          item.status.textContent = error.status === 0 ? 'waiting for connection…' : 'retrying…';
          item.progress.value = 0;
          await K.waker.sleep(backoff.next(error.retryAfter));
        }
      }
    }

    row(item) {
      const li = document.createElement('li');
      li.className = 'upload';
      const name = document.createElement('span');
      name.className = 'file-name';
      name.dir = 'auto';
      name.textContent = `${item.file.name || 'file'} (${humanSize(item.file.size)})`;
      item.progress = document.createElement('progress');
      item.progress.max = 1;
      item.progress.value = 0;
      item.progress.setAttribute('aria-label', `Uploading ${item.file.name}`);
      item.status = document.createElement('span');
      item.status.className = 'upload-status';
      item.status.setAttribute('role', 'status');
      item.status.textContent = 'uploading…';
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'icon-button upload-remove';
      remove.setAttribute('aria-label', `Remove ${item.file.name}`);
      remove.textContent = '×';
      remove.addEventListener('click', () => this.remove(item));
      li.append(name, item.progress, item.status, remove);
      return li;
    }

    remove(item) {
      item.dropped = true;  // a retrying upload stops
      this.items = this.items.filter((i) => i !== item);
      item.node.remove();
      this.list.hidden = this.items.length === 0;
      document.getElementById('text').focus();
    }

    clear() {
      this.items = [];
      this.list.replaceChildren();
      this.list.hidden = true;
    }

    /** The first file the server refused (the send is refused with its detail), or null. */
    refused() { return this.items.find((item) => item.error) || null; }

    /**
     * Hands the files over to a message and empties the list: their names, and a promise of their ids once every
     * upload is stored (rejected with the detail when the server refuses one). Uploads go on while offline.
     */
    take() {
      const items = this.items.slice();
      this.clear();
      const ids = Promise.all(items.map((item) => item.done)).then(() => {
        const failed = items.find((item) => item.error);
        if (failed) throw new K.ApiError(failed.error.status, failed.error.code,
          `${failed.file.name || 'file'}: ${failed.error.message}`);
        return items.map((item) => item.stored.id);
      });
      ids.catch(() => {});  // the outbox reports it
      return { ids, names: items.map((item) => item.file.name || 'file') };
    }
  }

  function init(theApi) {
    api = theApi;
    watch(document.getElementById('messages'));
    watch(document.getElementById('pending'));
    viewer.setup();
  }

  K.files = { init, upload, attachments, humanSize, isImage, fetchBlob, Attachments, viewer };
})(window.Konnect);
