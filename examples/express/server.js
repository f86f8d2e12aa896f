// The same app written to run as a server: it calls listen(PORT) and exports nothing. Nimbus hands
// it the requests; no port is opened.
const app = require('./app');

const port = Number(process.env.PORT ?? 3000);
app.listen(port, () => console.log(`listening on port ${port}`));
