
// Appended to portico-sso.php by scripts/interop.sh (so no opening tag): prints one sign-in URL.
// php FILE issuely EMAIL [NAME] [ROLE] [PROJECT_ID]   |   php FILE invoiced USER_ID
$interopArgs = array_map(fn ($a) => $a === '' ? null : $a, array_slice($argv, 2));
echo ($argv[1] === 'invoiced'
    ? portico_login_url((int) $interopArgs[0])
    : portico_sso_url(...$interopArgs)), "\n";
