// The test page's script: Microsoft Graph Toolkit, unmodified, pointed at graphgate.
// proxy/mgt_test.go bundles it with esbuild and serves it with index.html; the gateway's
// URL and a token come from /config.json, written by the test.
import { Providers } from '@microsoft/mgt-element';
import { ProxyProvider } from '@microsoft/mgt-proxy-provider';
import { registerMgtPersonComponent } from '@microsoft/mgt-components';

const cfg = await (await fetch('/config.json', { cache: 'no-store' })).json();

// ProxyProvider sends every Graph request to cfg.gateway instead of graph.microsoft.com
// and adds these headers: graphgate's own bearer token.
Providers.globalProvider = new ProxyProvider(cfg.gateway, async () => ({
  Authorization: 'Bearer ' + cfg.token,
}));

const colleague = document.getElementById('colleague');
colleague.setAttribute('user-id', cfg.colleagueId);
registerMgtPersonComponent();
document.body.dataset.booted = 'true';
