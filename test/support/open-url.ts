// BROWSER=node open-url.js PORT ID URL: hands URL to a SharedBrowser in the test process (see
// SharedBrowser.command), the way xdg-open hands a URL to a browser that is already running.
const [port, id, url] = process.argv.slice(2);
await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify({ id: Number(id), url }) });
