"""Issue 15 in the browser: alice pastes an image, bob sees it inline at its real size (the box reserved before the
bytes arrive) and opens it; a non-image is a download chip with name and size; an upload the server refuses shows
its detail and posts nothing."""
import json
import os
import tempfile
import time

from harness import Api, wait_for

ROOM = "pictures"
MAX_FILE_BYTES = 1_000_000  # the harness starts the server with this --max-file-bytes

# A 400×300 PNG drawn on a canvas, pasted into the message box as a ClipboardEvent carrying a File.
PASTE_JS = """
const done = arguments[arguments.length - 1];
const canvas = document.createElement('canvas');
canvas.width = 400; canvas.height = 300;
const g = canvas.getContext('2d');
const grad = g.createLinearGradient(0, 0, 400, 300);
grad.addColorStop(0, '#4f46e5'); grad.addColorStop(1, '#f59e0b');
g.fillStyle = grad; g.fillRect(0, 0, 400, 300);
g.fillStyle = '#fff'; g.beginPath(); g.arc(200, 150, 80, 0, Math.PI * 2); g.fill();
canvas.toBlob((blob) => {
  const data = new DataTransfer();
  data.items.add(new File([blob], 'sunset.png', { type: 'image/png' }));
  const box = document.getElementById('text');
  box.focus();
  const event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
  box.dispatchEvent(event);
  done(event.defaultPrevented);
}, 'image/png');
"""

# Records the box of each image as it is inserted and when its bytes have loaded: the two must match.
WATCH_JS = """
window.__imageBoxes = [];
new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes) {
    if (n.nodeType !== 1) continue;
    for (const b of n.querySelectorAll('.file-image')) {
      requestAnimationFrame(() => {
        const r0 = b.getBoundingClientRect();
        const entry = { before: [r0.width, r0.height], loadedBefore: !b.classList.contains('loading') };
        window.__imageBoxes.push(entry);
        b.querySelector('img').addEventListener('load', () => requestAnimationFrame(() => {
          const r1 = b.getBoundingClientRect();
          entry.after = [r1.width, r1.height];
        }), { once: true });
      });
    }
  }
}).observe(document.getElementById('messages'), { childList: true, subtree: true });
"""


# Whether a blob URL still loads as an image (img-src allows blob:, connect-src does not: no fetch of it).
LOADS_JS = """
const done = arguments[arguments.length - 1];
const img = new Image();
img.onload = () => done('alive');
img.onerror = () => done('revoked');
img.src = arguments[0];
"""


def last_message(page):
    return page.js("""
      const li = Array.from(document.querySelectorAll('#messages li.msg')).pop();
      if (!li) return null;
      return { text: li.querySelector('.text').textContent,
               images: Array.from(li.querySelectorAll('.file-image img')).map(i =>
                 ({ natural: [i.naturalWidth, i.naturalHeight], src: i.src, alt: i.alt })),
               chips: Array.from(li.querySelectorAll('.file-chip')).map(c =>
                 [c.querySelector('.file-name').textContent, c.querySelector('.file-size').textContent]) };
    """)


def scenario(server, alice, bob, step, shots):
    token = alice.js("return localStorage.getItem('konnect.token')")
    Api(server, token).call("POST", "/rooms", {"name": ROOM}, expect=(201,))
    alice.open_room(ROOM)
    # A public room someone else created reaches bob's list on its next refresh (every 60 s: the feed carries only
    # rooms he is a member of) or a reload; he reads it without joining (its own long-poll while open).
    bob.driver.refresh()
    bob.open_room(ROOM)
    bob.js(WATCH_JS)

    # 1. alice pastes an image, sees its upload finish, adds a caption and sends.
    assert alice.js_async(PASTE_JS) is True, "the paste of an image was not taken by the page"
    wait_for(lambda: alice.visible("#uploads .upload"), 5, "the pasted image listed for upload")
    wait_for(lambda: alice.js("return document.querySelector('#uploads .upload').classList.contains('done')"), 15,
             "the upload finished")
    assert alice.js("return document.querySelector('#uploads progress').value") == 1
    alice.type_and_send("look at this")
    wait_for(lambda: not alice.visible("#uploads"), 10, "the upload list cleared after the post")

    # 2. bob sees it inline, at its real size, with its box reserved before the bytes arrived.
    wait_for(lambda: (last_message(bob) or {}).get("images") and last_message(bob)["images"][0]["natural"] == [400, 300],
             15, "bob's inline image loaded")
    shown = last_message(bob)
    assert shown["text"] == "look at this", shown
    assert shown["images"][0]["src"].startswith("blob:"), shown
    assert shown["images"][0]["alt"] == "sunset.png", shown
    wait_for(lambda: bob.js("return window.__imageBoxes.length && !!window.__imageBoxes[0].after"), 5, "box measured")
    boxes = bob.js("return window.__imageBoxes")
    box = boxes[0]
    assert not box["loadedBefore"], f"the image was measured after loading, not before: {box}"
    assert box["before"] == box["after"], f"layout shift: the box was {box['before']} before loading, {box['after']} after"
    assert abs(box["before"][0] / box["before"][1] - 4 / 3) < 0.02, f"not the image's 4:3 ratio: {box}"
    stored = [m for m in Api(server, token).history(ROOM) if m["text"] == "look at this"]
    assert len(stored) == 1 and len(stored[0]["files"]) == 1, stored
    file = stored[0]["files"][0]
    assert (file["type"], file["width"], file["height"], file["name"]) == ("image/png", 400, 300, "sunset.png"), file
    step(f"alice pastes an image; bob sees it inline from a blob URL, 400×300, its box {box['before']} reserved "
         "before the bytes arrived (no layout shift)")

    # 3. bob opens it: the overlay shows the full image; Escape closes it and the focus returns.
    bob.el("#messages .file-image").click()
    wait_for(lambda: bob.js("return document.getElementById('viewer').open"), 5, "the image viewer open")
    wait_for(lambda: bob.js("return document.getElementById('viewer-image').naturalWidth") == 400, 5, "full image")
    shots(lambda theme, label: bob.driver.save_screenshot(shots.path(f"image-viewer-{theme}-{label}.png")))
    # Shots changes the viewport: the dialog stays open through it.
    assert bob.js("return document.getElementById('viewer').open")
    bob.driver.switch_to.active_element.send_keys("\ue00c")  # Escape
    wait_for(lambda: not bob.js("return document.getElementById('viewer').open"), 5, "the viewer closed by Escape")
    assert bob.js("return document.activeElement.classList.contains('file-image')"), "focus back on the image"
    step("a click opens the full image in an overlay; Escape closes it and the focus returns to the image")

    # 4. a non-image, attached with the button's file input, is a chip with its name and size.
    path = os.path.join(tempfile.mkdtemp(prefix="konnect-files-"), "notes-2026.txt")
    payload = bytes(range(256)) * 12  # 3,072 bytes: 3.0 KB
    with open(path, "wb") as f:
        f.write(payload)
    alice.el("#file-input").send_keys(path)
    wait_for(lambda: alice.js("return !!document.querySelector('#uploads .upload.done')"), 15, "the text file stored")
    alice.el("#text").click()
    alice.el("#send").click()
    wait_for(lambda: (last_message(bob) or {}).get("chips") == [["notes-2026.txt", "3.0 KB"]], 15,
             "bob's download chip")
    assert last_message(bob)["text"] == "" and last_message(bob)["images"] == []
    # The chip's download goes through fetch with the token: fetch the same bytes the way it does.
    fetched = bob.js_async("""
      const done = arguments[arguments.length - 1];
      const id = document.querySelector('#messages .file-chip').dataset.fileId;
      Konnect.files.fetchBlob(id).then(b => b.arrayBuffer()).then(a => done(Array.from(new Uint8Array(a))),
                                          e => done(String(e)));
    """)
    assert bytes(fetched) == payload, "the chip's bytes differ from the file"
    bob.el("#messages .file-chip").click()  # the real click: no error shown
    time.sleep(0.5)
    assert not bob.visible("#composer-error"), bob.el("#composer-error").text
    step("a text file attached with the button shows as a chip 'notes-2026.txt 3.0 KB'; its bytes come back intact")
    shots(lambda theme, label: bob.driver.save_screenshot(shots.path(f"files-{theme}-{label}.png")))
    alice.js("const s = document.getElementById('scroller'); s.scrollTop = s.scrollHeight")
    shots.page = alice  # alice's own bubbles, then her composer with a refused upload
    try:
        shots(lambda theme, label: alice.driver.save_screenshot(shots.path(f"files-own-{theme}-{label}.png")))
    finally:
        shots.page = bob

    # 4b. a file dropped on the conversation is listed for upload too (then removed: nothing is posted).
    dropped = alice.js("""
      const data = new DataTransfer();
      data.items.add(new File(['dropped bytes'], 'dropped.txt', { type: 'text/plain' }));
      const target = document.getElementById('scroller');
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      const over = document.querySelector('.conversation').classList.contains('dropping');
      const drop = new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true });
      target.dispatchEvent(drop);
      return [over, drop.defaultPrevented, document.querySelector('.conversation').classList.contains('dropping')];
    """)
    assert dropped == [True, True, False], dropped
    wait_for(lambda: alice.js("return !!document.querySelector('#uploads .upload.done')"), 15, "the dropped file stored")
    assert "dropped.txt" in alice.el("#uploads .upload .file-name").text
    alice.el("#uploads .upload-remove").click()
    assert not alice.visible("#uploads")
    step("a file dropped on the conversation is uploaded and listed (removable before sending)")

    # 4c. offline (issue 15): a file and its caption are queued like a text message; the upload waits for the
    # network, then the message is posted once.
    offline_file = os.path.join(os.path.dirname(path), "offline.txt")
    with open(offline_file, "wb") as f:
        f.write(b"written on a train\n")
    conditions = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    alice.driver.execute_cdp_cmd("Network.enable", {})
    alice.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {**conditions, "offline": True})
    before = len(Api(server, token).history(ROOM))
    try:
        alice.el("#file-input").send_keys(offline_file)
        wait_for(lambda: "waiting for connection" in alice.el("#uploads .upload-status").text, 10, "the upload waiting")
        alice.el("#text").send_keys("written offline, with a file")
        alice.el("#send").click()
        wait_for(lambda: alice.pending() == ["written offline, with a file"], 3, "the queued message shown as pending")
        assert not alice.visible("#uploads") and alice.el("#text").get_attribute("value") == "", "composer not freed"
        pending = alice.el("#pending").text
        assert "offline.txt" in pending and "uploading files…" in pending, pending
        time.sleep(1.5)
        assert len(Api(server, token).history(ROOM)) == before, "posted while offline?"
    finally:
        alice.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {**conditions, "offline": False})
    wait_for(lambda: (last_message(bob) or {}).get("chips") == [["offline.txt", "19 B"]], 30, "bob gets the queued file")
    assert last_message(bob)["text"] == "written offline, with a file"
    wait_for(lambda: alice.pending() == [] and alice.shown("written offline, with a file"), 10, "alice's queue empty")
    stored = [m for m in Api(server, token).history(ROOM) if m["text"] == "written offline, with a file"]
    assert len(stored) == 1 and [f["name"] for f in stored[0]["files"]] == ["offline.txt"], stored
    step("offline, a message with a file is queued (pending, 'uploading files…'); back online it is posted once")

    # 4d. across a reload: once its files are stored, a queued message keeps their ids in the outbox (localStorage)
    # and is posted after the reload. Here POST /messages cannot get through (CDP blocks /messages) until then.
    kept_file = os.path.join(os.path.dirname(path), "kept.txt")
    with open(kept_file, "wb") as f:
        f.write(b"kept across a reload\n")
    alice.el("#file-input").send_keys(kept_file)
    wait_for(lambda: alice.js("return !!document.querySelector('#uploads .upload.done')"), 15, "kept.txt stored")
    alice.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/messages*"]})
    try:
        alice.el("#text").send_keys("queued with a stored file")
        alice.el("#send").click()
        outbox = lambda: alice.js("return JSON.parse(localStorage.getItem('konnect.outbox.alice') || '[]')")  # noqa: E731
        wait_for(lambda: [(i["text"], len(i.get("files") or []), i.get("fileNames")) for i in outbox()]
                 == [("queued with a stored file", 1, ["kept.txt"])], 10, "the message and its file id in the outbox")
        alice.driver.refresh()
        wait_for(lambda: alice.visible("#composer"), 10, "alice's page after the reload")
        wait_for(lambda: alice.pending() == ["queued with a stored file"] and "kept.txt" in alice.el("#pending").text,
                 10, "the queued message still pending after the reload")
    finally:
        alice.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    wait_for(lambda: (last_message(bob) or {}).get("chips") == [["kept.txt", "21 B"]], 45, "bob gets the kept file")
    stored = [m for m in Api(server, token).history(ROOM) if m["text"] == "queued with a stored file"]
    assert len(stored) == 1 and [f["name"] for f in stored[0]["files"]] == ["kept.txt"], stored
    wait_for(lambda: alice.pending() == [], 10, "alice's outbox empty")
    alice.open_room(ROOM)
    step("a queued message whose file is stored survives a reload in the outbox (with the file id) and is posted once")

    # 5. an upload the server refuses (413 past --max-file-bytes) shows its detail and nothing is posted.
    big = os.path.join(os.path.dirname(path), "too-big.bin")
    with open(big, "wb") as f:
        f.write(b"\x00" * (MAX_FILE_BYTES + 500_000))
    before = len(Api(server, token).history(ROOM))
    alice.el("#file-input").send_keys(big)
    wait_for(lambda: alice.js("return !!document.querySelector('#uploads .upload.failed')"), 15, "the refused upload")
    status = alice.el("#uploads .upload.failed .upload-status").text
    alice.el("#text").send_keys("this must not go without its file")
    alice.el("#send").click()
    wait_for(lambda: alice.visible("#composer-error"), 5, "the refusal said")
    said = alice.el("#composer-error").text
    assert "too-big.bin" in said and "Not sent" in said, said
    assert alice.el("#text").get_attribute("value") == "this must not go without its file", "the text was lost"
    time.sleep(0.5)
    assert len(Api(server, token).history(ROOM)) == before, "a message was posted without its file"
    shots.page = alice
    try:
        shots(lambda theme, label: alice.driver.save_screenshot(shots.path(f"upload-refused-{theme}-{label}.png")))
    finally:
        shots.page = bob
    alice.el("#uploads .upload-remove").click()
    assert not alice.visible("#uploads")
    alice.js("document.getElementById('text').value = ''")
    step(f"a refused upload says the server's detail ({status!r}; {said!r}) and posts nothing")

    # 6. leaving the room revokes the image's blob URL.
    url = last_message_image_url(bob)
    assert bob.js_async(LOADS_JS, url) == "alive", "the shown image's blob URL does not load"
    bob.open_room("general")
    assert bob.js_async(LOADS_JS, url) == "revoked", "the blob URL of an image no longer shown still loads"
    step("the blob URL is revoked once the image leaves the page")
    print("# files:", json.dumps({"box": box}), flush=True)


def last_message_image_url(page):
    return page.js("const i = document.querySelector('#messages .file-image img'); return i && i.src")
