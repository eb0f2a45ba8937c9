// The test pages' script: Microsoft Graph Toolkit, unmodified, pointed at graphgate.
// proxy/mgt_test.go and proxy/mgt_card_test.go bundle it with esbuild and serve it with
// index.html (two mgt-person), card.html (an expanded mgt-person-card) and picker.html (an
// mgt-people-picker); the gateway's URL and a token come from /config.json, written by
// the test, and the card's user from the page's ?user= parameter.
import { Providers } from '@microsoft/mgt-element';
import { ProxyProvider } from '@microsoft/mgt-proxy-provider';
import {
  registerMgtPersonComponent,
  registerMgtPersonCardComponent,
  registerMgtPeoplePickerComponent,
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
registerMgtPersonComponent();
registerMgtPersonCardComponent();
registerMgtPeoplePickerComponent();
document.body.dataset.booted = 'true';
