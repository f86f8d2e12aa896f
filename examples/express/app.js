// An Express app exported as it is: Nimbus calls it with node:http's request and response.
const express = require('express');

const app = express();
app.use(express.json());

app.get('/', (req, res) => res.send('Express on Nimbus'));
app.get('/hello/:name', (req, res) => res.json({ message: `hello, ${req.params.name}` }));
app.post('/echo', (req, res) => res.status(201).json({ echo: req.body }));
app.get('/env', (req, res) => res.json({ greeting: process.env.GREETING ?? null }));

module.exports = app;
