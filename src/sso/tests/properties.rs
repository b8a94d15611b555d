//! Properties over arbitrary tokens, headers and claims.

use super::*;

// ---------------------------------------------------------------------------
// Properties.

const CLAIM_NAMES: [&str; 12] = [
    "companyId",
    "email",
    "name",
    "role",
    "projectId",
    "sub",
    "iss",
    "jti",
    "aud",
    "iat",
    "nbf",
    "exp",
];

/// Strings the rules look at, so random values hit known rows often.
const INTERESTING: [&str; 26] = [
    ACME,
    GLOBEX,
    INITECH,
    "cmp_nope",
    "new@acme.test",
    "alice@acme.test",
    "admin@acme.test",
    "disabled@acme.test",
    "bob@globex.test",
    "not an email",
    "CUSTOMER",
    "AGENT",
    "ADMIN",
    "proj_acme_1",
    "proj_globex_1",
    BASE,
    "https://portal.example.com/",
    "used-jti",
    "10",
    "13",
    "20",
    "-1",
    "HS256",
    "none",
    "",
    "1700000000",
];

/// Any JSON value: scalars of every kind, numbers of every kind, nested
/// arrays and objects.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        (-1_000i64..1_000).prop_map(|d| Value::from(NOW + d)),
        (-1_000.0f64..1_000.0).prop_map(|d| Value::from(NOW as f64 + d)),
        (-3i64..30).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "\\PC{0,24}".prop_map(Value::String),
        prop::sample::select(INTERESTING.to_vec()).prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value for one claim the rules know.
fn plausible_value(name: &'static str) -> BoxedStrategy<Value> {
    match name {
        "companyId" => prop::sample::select(vec![ACME, ACME, GLOBEX, INITECH, "cmp_nope"])
            .prop_map(Value::from)
            .boxed(),
        "email" => prop::sample::select(vec![
            "new@acme.test",
            "Alice@ACME.test",
            "agent@acme.test",
            "admin@acme.test",
            "disabled@acme.test",
            "bob@globex.test",
            "new@globex.test",
            "nope",
        ])
        .prop_map(Value::from)
        .boxed(),
        "role" => prop::sample::select(vec!["CUSTOMER", "AGENT", "ADMIN", "customer"])
            .prop_map(Value::from)
            .boxed(),
        "projectId" => prop::sample::select(vec!["proj_acme_1", "proj_globex_1", "proj_nope"])
            .prop_map(Value::from)
            .boxed(),
        "sub" => prop_oneof![
            (-2i64..25).prop_map(Value::from),
            prop::sample::select(vec!["10", "13", "20", "x", " 11 "]).prop_map(Value::from),
        ]
        .boxed(),
        "jti" => prop::sample::select(vec!["used-jti", "fresh-jti"])
            .prop_map(Value::from)
            .boxed(),
        "aud" => prop_oneof![
            prop::sample::select(vec![BASE, "https://portal.example.com/", ACME, GLOBEX, "x"])
                .prop_map(Value::from),
            prop::collection::vec(
                prop::sample::select(vec![BASE, ACME, GLOBEX, "x"]).prop_map(Value::from),
                0..3
            )
            .prop_map(Value::Array),
        ]
        .boxed(),
        // Around the edges of checks 7–9, mostly inside them.
        "exp" => (-120i64..700).prop_map(|d| Value::from(NOW + d)).boxed(),
        "iat" | "nbf" => (-300i64..120).prop_map(|d| Value::from(NOW + d)).boxed(),
        _ => "\\PC{0,20}".prop_map(Value::String).boxed(),
    }
}

/// A value for one claim: one the rules know, or anything.
fn claim_value(name: &'static str) -> BoxedStrategy<Value> {
    prop_oneof![plausible_value(name), arb_json()].boxed()
}

/// A claims object: each claim of Portico's perhaps present with a value
/// the rules know, strangers beside them, and now and then one claim
/// holding anything at all (most of those fail check 2, so they stay rare
/// enough for the other checks to be reached).
fn arb_claims() -> impl Strategy<Value = Value> {
    let known: Vec<BoxedStrategy<Option<(&'static str, Value)>>> = CLAIM_NAMES
        .iter()
        .map(|&name| {
            prop::option::weighted(0.8, plausible_value(name).prop_map(move |v| (name, v))).boxed()
        })
        .collect();
    (
        prop::collection::btree_map("\\PC{0,8}", arb_json(), 0..3),
        known,
        prop::option::weighted(
            0.3,
            (prop::sample::select(CLAIM_NAMES.to_vec()), arb_json()),
        ),
    )
        .prop_map(|(extra, known, wild)| {
            let mut map: Map<String, Value> = extra.into_iter().collect();
            for (name, value) in known.into_iter().flatten().chain(wild) {
                map.insert(name.to_owned(), value);
            }
            Value::Object(map)
        })
}

/// A header object: usually `alg: HS256`, plus anything.
fn arb_header() -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map("\\PC{0,8}", arb_json(), 0..3),
        prop_oneof![
            10 => Just(Some(json!("HS256"))),
            1 => Just(None),
            1 => arb_json().prop_map(Some),
        ],
    )
        .prop_map(|(extra, alg)| {
            let mut map: Map<String, Value> = extra.into_iter().collect();
            map.remove("alg");
            if let Some(alg) = alg {
                map.insert("alg".to_owned(), alg);
            }
            Value::Object(map)
        })
}

/// What any refusal must be, whatever the input.
fn assert_well_formed_refusal(r: &Refusal, token: &str) -> Result<(), TestCaseError> {
    let code = r.reason.code();
    prop_assert!(Reason::all_codes().contains(&code), "unknown code {code}");
    if let Reason::MissingClaim(name) = r.reason {
        prop_assert!(
            ["companyId", "email", "exp"].contains(&name),
            "missing {name}"
        );
    }
    prop_assert!([400, 401, 403].contains(&r.reason.status()));
    // The company is known from check 5's refusals on, never before.
    let company_known = !matches!(
        r.reason,
        Reason::TokenMissing
            | Reason::TokenMalformed
            | Reason::UnsupportedAlgorithm
            | Reason::MissingClaim("companyId")
            | Reason::UnknownCompany
    );
    prop_assert_eq!(r.company.is_some(), company_known, "{} {}", code, &r.detail);
    prop_assert!(token.len() < 8 || !r.detail.contains(token));
    for s in ALL_SECRETS {
        prop_assert!(!r.detail.contains(s));
    }
    Ok(())
}

/// What any admission must be, whatever the input.
fn assert_sound_admission(v: &Verified, a: &Admission) -> Result<(), TestCaseError> {
    prop_assert!([ACME_ID, GLOBEX_ID].contains(&v.company.id));
    prop_assert!(v.claims.exp.is_some());
    prop_assert_ne!(a.role, Some(Role::Admin), "SSO never grants ADMIN");
    match &a.identity {
        Identity::Existing(u) => {
            prop_assert_eq!(u.company_id, v.company.id);
            prop_assert!(!u.disabled);
        }
        Identity::New { email, .. } => {
            let normalized = normalize_email(email);
            prop_assert_eq!(normalized.as_deref(), Ok(email.as_str()));
        }
    }
    if let Some(p) = &a.project {
        prop_assert_eq!(p.company_id, v.company.id);
    }
    Ok(())
}

/// The codes a token with a valid header but an unsigned change may get.
const BEFORE_OR_AT_SIGNATURE: [Reason; 5] = [
    Reason::TokenMalformed,
    Reason::MissingClaim("companyId"),
    Reason::UnknownCompany,
    Reason::SsoNotConfigured,
    Reason::BadSignature,
];

/// A token passing every check, with all ten claims the property changes.
fn full_claims() -> Value {
    json!({
        "companyId": ACME,
        "email": "new@acme.test",
        "name": "New Person",
        "iss": "issuely",
        "exp": NOW + 300,
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "aud": BASE,
        "role": "AGENT",
        "projectId": "proj_acme_1",
        "sub": ALICE,
        "jti": "fresh-jti",
    })
}

const CHANGED_CLAIMS: [&str; 10] = [
    "companyId",
    "email",
    "exp",
    "iat",
    "nbf",
    "aud",
    "role",
    "projectId",
    "sub",
    "jti",
];

fn wrong_secret() -> impl Strategy<Value = String> {
    "[!-~]{16,48}".prop_filter("not a usable secret", |s| {
        !ALL_SECRETS.contains(&s.as_str())
    })
}

#[test]
fn the_full_token_of_the_properties_is_admitted() {
    let (_, a) = admitted(&sign(&full_claims(), ACME_SECRET));
    assert_eq!(new_identity(&a), ("new@acme.test", "New Person"));
    assert_eq!(a.role, Some(Role::Agent));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// (a) Any bytes as a token: no panic; a refusal with a code of the table.
    #[test]
    fn any_bytes_as_a_token(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..600),
            "[A-Za-z0-9_=.+/ -]{0,300}".prop_map(String::into_bytes),
            (
                "[A-Za-z0-9_-]{0,80}",
                "[A-Za-z0-9_-]{0,200}",
                "[A-Za-z0-9_-]{0,60}"
            )
                .prop_map(|(h, p, s)| format!("{h}.{p}.{s}").into_bytes()),
            prop::collection::vec(any::<u8>(), 8_000..8_400),
        ]
    ) {
        let token = String::from_utf8_lossy(&bytes).into_owned();
        match check(Some(&token)) {
            Ok((v, a)) => assert_sound_admission(&v, &a)?,
            Err(r) => assert_well_formed_refusal(&r, &token)?,
        }
    }

    /// (b) Any header and claims, signed with a company's secret (or not):
    /// no panic; admitted soundly, or refused with a code of the table.
    #[test]
    fn any_signed_header_and_claims(
        header in arb_header(),
        claims in arb_claims(),
        other_secret in prop::option::weighted(0.25, prop::sample::select(vec![
            ACME_SECRET, ACME_PREVIOUS, GLOBEX_SECRET, GLOBEX_EXPIRED, WRONG_SECRET,
        ])),
    ) {
        // Mostly the secret of the company the claims name, else another.
        let secret = other_secret.unwrap_or(match claims.get("companyId").and_then(Value::as_str) {
            Some(GLOBEX) => GLOBEX_SECRET,
            _ => ACME_SECRET,
        });
        let token = sign_with_header(&header, &claims, secret);
        match check(Some(&token)) {
            Ok((v, a)) => assert_sound_admission(&v, &a)?,
            Err(r) => assert_well_formed_refusal(&r, &token)?,
        }
    }

    /// (c) A valid token with one claim changed or removed, the payload
    /// swapped under the old signature: always refused at or before check 6;
    /// re-signed with a wrong secret: refused the same way.
    #[test]
    fn one_claim_changed_without_resigning(
        (name, change) in prop::sample::select(CHANGED_CLAIMS.to_vec()).prop_flat_map(|name| {
            (Just(name), prop::option::weighted(0.85, prop_oneof![claim_value(name), arb_json()]))
        }),
        wrong in wrong_secret(),
    ) {
        let original = full_claims();
        let token = sign(&original, ACME_SECRET);
        let changed = match change {
            Some(value) => set(original.clone(), name, value),
            None => unset(original.clone(), name),
        };
        prop_assume!(changed != original);

        let forged = swap_payload(&token, &changed);
        let r = match check(Some(&forged)) {
            Ok(_) => return Err(TestCaseError::fail(format!("{name} changed, admitted"))),
            Err(r) => r,
        };
        assert_well_formed_refusal(&r, &forged)?;
        prop_assert!(
            BEFORE_OR_AT_SIGNATURE.contains(&r.reason),
            "{} changed: {} ({})", name, r.reason, r.detail
        );

        // Checks 1–5 do not read the signature: the same claims under a
        // wrong secret stop at the same place.
        let input = format!("{}.{}", parts(&forged).0, parts(&forged).1);
        let resigned = format!("{input}.{}", hmac(&input, &wrong));
        let r2 = check(Some(&resigned)).expect_err("re-signed with a wrong secret, admitted");
        prop_assert_eq!(r2.reason, r.reason);
    }

    /// The valid token itself under a wrong secret: bad_signature, exactly.
    #[test]
    fn the_valid_token_under_a_wrong_secret(wrong in wrong_secret()) {
        let r = check(Some(&sign(&full_claims(), &wrong)))
            .expect_err("signed with a wrong secret, admitted");
        prop_assert_eq!(r.reason, Reason::BadSignature);
        prop_assert!(!r.detail.contains(&wrong));
    }
}
