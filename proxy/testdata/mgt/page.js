// The test pages' script: Microsoft Graph Toolkit, unmodified, pointed at graphgate.
// proxy/mgt_test.go and proxy/mgt_card_test.go bundle it with esbuild and serve it with
// index.html (two mgt-person), card.html (an expanded mgt-person-card), picker.html (an
// mgt-people-picker), person-query.html (an mgt-person found by its person-query) and
// people.html (an mgt-people); the gateway's URL and a token come from /config.json,
// written by the test, the card's user from the page's ?user= parameter and the
// person-query from its ?query= parameter.
import { Providers } from '@microsoft/mgt-element';
import { ProxyProvider } from '@microsoft/mgt-proxy-provider';
import {
  registerMgtPersonComponent,
  registerMgtPersonCardComponent,
  registerMgtPeoplePickerComponent,
  registerMgtPeopleComponent,
} from '@microsoft/mgt-components';

const cfg = await (await fetch('/config.json', { cache: 'no-store' })).json();

// ProxyProvider sends every Graph request to cfg.gateway instead of graph.microsoft.com
// and adds these headers: graphgate's own bearer token.
Providers.globalProvider = new ProxyProvider(cfg.gateway, async () => ({
  Authorization: 'Bearer ' + cfg.token,
}));

const colleague = document.getElementById('colleague');
if (colleague) {
  colleague.setAttribute('user-id', cfg.colleagueId);
}
const card = document.getElementById('card');
if (card) {
  card.setAttribute('user-id', new URLSearchParams(location.search).get('user'));
}
const queried = document.getElementById('queried');
if (queried) {
  queried.setAttribute('person-query', new URLSearchParams(location.search).get('query'));
}
registerMgtPersonComponent();
registerMgtPersonCardComponent();
registerMgtPeoplePickerComponent();
registerMgtPeopleComponent();
document.body.dataset.booted = 'true';
