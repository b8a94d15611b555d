// Portico walked through in a real browser (headless Chromium), as a new
// admin would: sign up → Settings → SSO → generate a secret → copy it →
// mint a token with it outside the portal → sign in through SSO in a second
// browser context → the event shows → rotate with "revoke now" → the token
// signed with the old secret is refused with bad_signature → the customer
// opens a support request with a screenshot, an agent in a third context
// answers and sets it pending, the customer sees the answer. Along the way it
// screenshots every page at desktop and phone widths, and fails on any
// console error (a CSP violation, a script error) or sideways scrolling.
//
// Usage: PORTICO_URL=http://127.0.0.1:PORT SHOTS=dir node walkthrough.js
// (scripts/browser.sh starts the server and runs this.)

'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const BASE = process.env.PORTICO_URL || 'http://127.0.0.1:8080';
const SHOTS = process.env.SHOTS || path.join(__dirname, 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let passed = 0;
let failed = 0;
function check(ok, what, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`PASS  ${what}`);
  } else {
    failed += 1;
    console.log(`FAIL  ${what}${detail ? ` — ${detail}` : ''}`);
  }
}

// The token an integrator's server would mint: HS256 over the secret's UTF-8 bytes.
function mint(claims, secret) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  const sig = crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update(input).digest('base64url');
  return `${input}.${sig}`;
}

// Console errors and sideways scrolling are failures on every page.
function watch(page, label, errors) {
  page.on('console', (m) => {
    // A refused form or token answers 4xx on purpose; the browser logs that.
    const expected = /Failed to load resource: the server responded with a status of 4\d\d/;
    if (m.type() === 'error' && !expected.test(m.text())) errors.push(`${label}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`${label}: ${e.message}`));
}

async function shoot(page, name, viewport) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  check(width <= viewport.width, `${name}: nothing scrolls sideways at ${viewport.width}px`, `scrollWidth ${width}`);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

// Every page at phone width too, in a context of its own with the same cookies.
async function phoneShots(browser, admin, pages, errors) {
  const ctx = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  await ctx.addCookies(await admin.cookies());
  const page = await ctx.newPage();
  watch(page, 'phone', errors);
  for (const [name, url] of pages) {
    await page.goto(BASE + url);
    await shoot(page, `${name}-phone`, PHONE);
  }
  await ctx.close();
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const errors = [];
  const stamp = Date.now().toString(36);
  const adminEmail = `ada-${stamp}@acme.test`;
  const userEmail = `jane-${stamp}@customer.test`;

  // --- The admin, at desktop width.
  const admin = await browser.newContext({ viewport: DESKTOP });
  await admin.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  const page = await admin.newPage();
  watch(page, 'admin', errors);

  await page.goto(`${BASE}/login`);
  await shoot(page, 'login-desktop', DESKTOP);
  await page.click('text=Create a company');
  await shoot(page, 'signup-desktop', DESKTOP);
  // A refused form keeps what was typed and says why, next to the field.
  await page.fill('#company', 'Acme Inc');
  await page.fill('#name', 'Ada Admin');
  await page.fill('#email', adminEmail);
  await page.fill('#password', 'short');
  await page.click('button:has-text("Create company")');
  check(await page.isVisible('#password-error'), 'sign-up explains a short password next to the field');
  check((await page.inputValue('#company')) === 'Acme Inc', 'sign-up keeps what was typed');
  await shoot(page, 'signup-error-desktop', DESKTOP);
  await page.fill('#password', 'correct horse battery staple');
  await page.click('button:has-text("Create company")');
  await page.waitForURL('**/settings/sso');
  check(page.url().endsWith('/settings/sso'), 'sign-up lands on Settings → SSO');
  check(await page.isVisible('.flash-ok'), 'a flash message welcomes the new admin');
  const companyId = (await page.textContent('#company-id')).trim();
  check(/^cmp_/.test(companyId), 'the company ID is shown', companyId);
  await shoot(page, 'settings-sso-empty-desktop', DESKTOP);

  // Generate the secret; it is shown once, and its copy button works.
  await page.click('button:has-text("Generate secret")');
  await page.waitForSelector('#new-secret');
  const secret = (await page.textContent('#new-secret')).trim();
  check(secret.length >= 43, 'a secret of at least 256 bits is shown once', `${secret.length} chars`);
  await page.click('button[data-copy="new-secret"]');
  await page.waitForTimeout(200);
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  check(copied === secret, 'the copy button puts the secret on the clipboard');
  check((await page.textContent('button[data-copy="new-secret"]')).includes('Copied'), 'the copy button says it copied');
  await shoot(page, 'settings-sso-secret-desktop', DESKTOP);
  await page.reload();
  check(!(await page.content()).includes(secret), 'the secret is not shown again after a reload');
  check((await page.textContent('.kv')).includes(secret.slice(-4)), 'its last four characters are');

  // Snippet tabs work with the keyboard and are filled with this company's ID.
  const firstTab = page.locator('[role="tab"]').first();
  await firstTab.click();
  await page.keyboard.press('ArrowRight');
  const selected = await page.getAttribute('[role="tab"][aria-selected="true"]', 'data-tab');
  check(selected === 'snippet-php', 'arrow keys move between snippet tabs', selected);
  check((await page.textContent('#code-php')).includes(companyId), 'the snippets carry the company ID');

  // --- Outside the portal: the integrator's server mints a token with the copied secret.
  const now = Math.floor(Date.now() / 1000);
  const token = mint({ companyId, email: userEmail, name: 'Jane Doe', iat: now, exp: now + 300 }, copied);

  // --- The customer, in a second browser context at phone width.
  const customer = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const phone = await customer.newPage();
  watch(phone, 'customer', errors);
  await phone.goto(`${BASE}/api/auth/sso?token=${token}`);
  check(phone.url().endsWith('/dashboard'), 'the SSO link lands on the dashboard', phone.url());
  check((await phone.textContent('h1')).includes('Hello, Jane Doe'), 'the dashboard greets the user');
  await shoot(phone, 'dashboard-customer-phone', PHONE);

  // --- Back to the admin: the event shows.
  await page.reload();
  const events = await page.textContent('section[aria-labelledby="events-title"]');
  check(events.includes(userEmail), 'the sign-in shows in the recent sign-ins');

  // Rotate with "revoke now".
  await page.check('input[name="grace"][value="0"]');
  await page.click('button:has-text("Rotate secret")');
  await page.waitForSelector('#new-secret');
  const rotated = (await page.textContent('#new-secret')).trim();
  check(rotated !== secret, 'rotation shows a new secret');
  check((await page.textContent('.flash')).includes('revoked'), 'the flash says the old secret was revoked');

  // The old secret no longer signs anyone in.
  const stale = mint({ companyId, email: userEmail, iat: now, exp: now + 300 }, copied);
  const refused = await phone.goto(`${BASE}/api/auth/sso?token=${stale}`);
  check(refused.status() === 401, 'a token signed with the revoked secret is refused with 401', `${refused.status()}`);
  const refusal = await phone.textContent('body');
  check(refusal.includes('bad_signature'), 'the refusal page names bad_signature');
  check(!refusal.includes(stale.split('.')[2]), 'the refusal page never shows the token');
  await shoot(phone, 'sso-refused-phone', PHONE);
  await page.reload();
  const refusals = await page.textContent('section[aria-labelledby="refusals-title"]');
  check(refusals.includes('bad_signature'), 'the refusal shows in the recent refusals, apart from the sign-ins');
  check(!(await page.textContent('section[aria-labelledby="events-title"]')).includes('bad_signature'), 'and not among the sign-ins');
  await page.locator('section[aria-labelledby="refusals-title"]').scrollIntoViewIfNeeded();
  await shoot(page, 'settings-sso-events-desktop', DESKTOP);

  // The token checker explains a token without signing anyone in.
  const fresh = mint({ companyId, email: 'checked@customer.test', iat: now, exp: now + 300 }, rotated);
  await page.fill('#check-token', fresh);
  await page.click('button:has-text("Check token")');
  check((await page.textContent('.verdict-ok')).includes('would sign in checked@customer.test'), 'the token checker gives the verdict');
  await shoot(page, 'settings-sso-checker-desktop', DESKTOP);

  // Projects: the empty state, then one created and renamed.
  await page.click('.settings-nav >> text=Projects');
  check((await page.textContent('.empty')).includes('No projects yet'), 'the projects page explains its empty state');
  await shoot(page, 'settings-projects-empty-desktop', DESKTOP);
  await page.fill('#project-name', 'Customer portal');
  await page.click('button:has-text("Create project")');
  check((await page.textContent('.flash')).includes('created'), 'a project is created with a flash');
  await shoot(page, 'settings-projects-desktop', DESKTOP);

  // --- Support requests. The customer, on the phone (signed in again: the
  // refused token above ended the session): the empty list, then a request
  // with a screenshot attached.
  const again = mint({ companyId, email: userEmail, iat: now, exp: now + 300, jti: `again-${stamp}` }, rotated);
  await phone.goto(`${BASE}/api/auth/sso?token=${again}&return_to=/requests`);
  check(phone.url().endsWith('/requests'), 'the SSO link with return_to lands on the request list', phone.url());
  check((await phone.textContent('.empty')).includes('open a request'), 'the empty request list says what to do');
  await shoot(phone, 'requests-empty-phone', PHONE);
  await phone.click('a:has-text("New request")');
  await shoot(phone, 'requests-new-phone', PHONE);
  const shot = path.join(SHOTS, 'attached-screenshot.png');
  await page.screenshot({ path: shot });
  await phone.fill('#subject', 'The export button does nothing');
  await phone.fill('#body', 'When I click **Export**, nothing happens.\n\n1. Open Reports\n2. Click Export');
  await phone.setInputFiles('#files', shot);
  await phone.click('button:has-text("Send request")');
  await phone.waitForURL(/\/requests\/\d+$/);
  const requestUrl = phone.url();
  check(/\/requests\/\d+$/.test(requestUrl), 'sending the request lands on its page', requestUrl);
  check((await phone.textContent('.badge-large')).includes('Submitted'), 'the customer reads the status as Submitted');
  check(await phone.isVisible('.file-chip:has-text("attached-screenshot.png")'), 'the screenshot shows as a file chip');
  check((await phone.innerHTML('.message-body')).includes('<strong>Export</strong>'), 'the message is rendered Markdown');
  await shoot(phone, 'requests-show-customer-phone', PHONE);

  // An agent, in a third browser context at desktop width.
  const agentToken = mint({ companyId, email: `sam-${stamp}@acme.test`, name: 'Sam Agent', role: 'AGENT', iat: now, exp: now + 300 }, rotated);
  const agentCtx = await browser.newContext({ viewport: DESKTOP });
  const desk = await agentCtx.newPage();
  watch(desk, 'agent', errors);
  await desk.goto(`${BASE}/api/auth/sso?token=${agentToken}`);
  check((await desk.textContent('.queue-counts')).includes('New'), 'the agent\'s dashboard shows the queue counts');
  await desk.click('.queue-counts a:has-text("New")');
  check(await desk.isVisible('tr.unread:has-text("The export button does nothing")'), 'the new request is in the agent\'s queue, unread');
  await shoot(desk, 'requests-queue-desktop', DESKTOP);
  await desk.click('a:has-text("The export button does nothing")');
  const image = await desk.request.get(BASE + (await desk.getAttribute('.file-chip', 'href')));
  check(image.headers()['content-type'] === 'image/png', 'the screenshot is served as a PNG, decided from its bytes');
  await desk.check('input[name="internal"][value="on"]');
  await desk.fill('#body', 'Internal: reproduced on the staging server.');
  await desk.click('button:has-text("Send")');
  check(await desk.isVisible('.message.internal'), 'the internal note shows tinted and labelled');
  await desk.check('input[name="internal"][value="off"]');
  await desk.fill('#body', 'Thanks! Could you tell us which browser you use?');
  await desk.selectOption('#reply-status', 'pending');
  await desk.click('button:has-text("Send")');
  check((await desk.textContent('.badge-large')).includes('Pending'), 'reply and set pending');
  await shoot(desk, 'requests-show-agent-desktop', DESKTOP);
  await desk.goto(`${BASE}/requests/new`);
  await shoot(desk, 'requests-new-desktop', DESKTOP);

  // The customer sees the answer and the new status, never the note.
  await phone.goto(requestUrl);
  check((await phone.textContent('.conversation')).includes('which browser you use'), 'the customer sees the agent\'s answer');
  check((await phone.textContent('.badge-large')).includes('Waiting on you'), 'the customer reads the new status');
  check(!(await phone.content()).includes('reproduced on the staging server'), 'the internal note never reaches the customer');
  await shoot(phone, 'requests-answered-phone', PHONE);
  await phone.goto(`${BASE}/requests`);
  await shoot(phone, 'requests-list-phone', PHONE);
  await desk.goto(`${BASE}/requests?status=all`);
  await shoot(desk, 'requests-list-desktop', DESKTOP);
  // Search: found from the commit that wrote it (SQLite's index is a file of
  // its own, kept by a thread); an internal note's words only for agents.
  await desk.goto(`${BASE}/requests?q=staging&status=all`);
  check(await desk.isVisible('a:has-text("The export button does nothing")'), 'an agent finds the request by a word of the internal note');
  await shoot(desk, 'requests-search-desktop', DESKTOP);
  await phone.goto(`${BASE}/requests?q=staging`);
  check(!(await phone.isVisible('a:has-text("The export button does nothing")')), 'the customer\'s search never reads the internal note');
  await phone.goto(`${BASE}/requests?q=browser`);
  check(await phone.isVisible('a:has-text("The export button does nothing")'), 'the customer finds it by a word of the public answer');
  await shoot(phone, 'requests-search-phone', PHONE);
  await agentCtx.close();

  // People: Jane is listed; disabling asks first, then ends her session.
  await page.click('.settings-nav >> text=People');
  check((await page.textContent('table')).includes(userEmail), 'the people page lists the SSO user');
  await shoot(page, 'settings-people-desktop', DESKTOP);
  // Her sessions: the phone's, started through SSO, with an End button.
  await page.click(`tr:has-text("${userEmail}") a:has-text("Sessions")`);
  const sessionsUrl = page.url().replace(BASE, '');
  const sessions = await page.textContent('main');
  check(sessions.includes('SSO') && (await page.locator('button:has-text("End")').count()) >= 1, 'the sessions page lists her live sessions with an End button');
  await shoot(page, 'settings-sessions-desktop', DESKTOP);
  await page.click('.settings-nav >> text=People');
  page.once('dialog', (d) => d.accept());
  await page.click(`tr:has-text("${userEmail}") button:has-text("Disable")`);
  check((await page.textContent('.flash')).includes('disabled'), 'disabling a user says what happened');
  const after = await phone.goto(`${BASE}/dashboard`);
  check(phone.url().endsWith('/login'), 'the disabled user is signed out at once', `${after.status()} ${phone.url()}`);

  await phoneShots(browser, admin, [
    ['settings-sso', '/settings/sso'],
    ['settings-projects', '/settings/projects'],
    ['settings-people', '/settings/people'],
    ['settings-sessions', sessionsUrl],
    ['dashboard-admin', '/dashboard'],
    ['login', '/login'],
    ['signup', '/signup'],
    ['signed-out', '/signed-out'],
    ['not-found', '/no-such-page'],
  ], errors);
  await page.goto(`${BASE}/dashboard`);
  await shoot(page, 'dashboard-admin-desktop', DESKTOP);

  // Sign out through the top bar.
  await page.click('button:has-text("Sign out")');
  check(page.url().endsWith('/signed-out'), 'signing out lands on the signed-out page');
  await shoot(page, 'signed-out-desktop', DESKTOP);

  check(errors.length === 0, 'no console error on any page (CSP, scripts)', errors.join(' | '));
  await browser.close();
  console.log(`screenshots: ${SHOTS}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.log(`FAIL  the walk-through stopped: ${e.message}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
