// Appended to portico-sso.js by scripts/interop.sh: prints one sign-in URL.
// node FILE issuely EMAIL [NAME] [ROLE] [PROJECT_ID]   |   node FILE invoiced USER_ID
{
  const [mode, ...args] = process.argv.slice(2);
  const [email, name, role, projectId] = args.map((a) => (a === '' ? undefined : a));
  console.log(mode === 'invoiced'
    ? porticoLoginUrl(Number(args[0])) // a JSON number, as an integrator's user.id is
    : porticoSsoUrl({ email, name, role, projectId }));
}
