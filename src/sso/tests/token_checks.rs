//! Checks 1–9, on the token itself.

use super::*;

// ---------------------------------------------------------------------------
// Checks 1–3: presence, structure, algorithm.

#[test]
fn token_missing_when_absent_empty_or_blank() {
    for token in [None, Some(""), Some("   "), Some("\t\n")] {
        assert_eq!(refused(token).reason, Reason::TokenMissing, "{token:?}");
    }
}

#[test]
fn surrounding_whitespace_is_trimmed() {
    let token = format!("  {}\n", sign(&claims(), ACME_SECRET));
    admitted(&token);
}

#[test]
fn malformed_structures() {
    let good = sign(&claims(), ACME_SECRET);
    let (h, p, s) = parts(&good);
    let header_b64 = b64(br#"{"alg":"HS256"}"#);
    let sig = |input: &str| hmac(input, ACME_SECRET);
    let signed = |h: &str, p: &str| format!("{h}.{p}.{}", sig(&format!("{h}.{p}")));
    let tokens = vec![
        ("one part", "abc".to_owned()),
        ("two parts", format!("{h}.{p}")),
        ("four parts", format!("{h}.{p}.{s}.{s}")),
        ("empty parts", "..".to_owned()),
        ("header not base64", format!("!!!.{p}.{s}")),
        ("payload not base64", format!("{h}.pay*load.{s}")),
        ("standard base64 (+/)", signed(&header_b64, "e30+/w")),
        ("header not JSON", signed(&b64(b"alg=HS256"), p)),
        ("payload not JSON", signed(&header_b64, &b64(b"{\"exp\":"))),
        ("header a JSON array", signed(&b64(b"[\"HS256\"]"), p)),
        (
            "payload a JSON string",
            signed(&header_b64, &b64(b"\"claims\"")),
        ),
        ("payload JSON null", signed(&header_b64, &b64(b"null"))),
        (
            "payload not UTF-8",
            signed(&header_b64, &b64(&[0xff, 0xfe, b'{'])),
        ),
    ];
    for (what, token) in tokens {
        let r = refused(Some(&token));
        assert_eq!(r.reason, Reason::TokenMalformed, "{what}: {}", r.detail);
        assert_eq!(r.reason.status(), 400);
        assert!(r.company.is_none(), "{what}");
    }
}

#[test]
fn claims_of_the_wrong_type_are_malformed() {
    let cases = [
        ("exp", json!("1700000300")),
        ("iat", json!("1700000000")),
        ("nbf", json!(true)),
        ("exp", json!([NOW + 300])),
        ("companyId", json!(1)),
        ("email", json!(["new@acme.test"])),
        ("name", json!({"first": "Jane"})),
        ("role", json!(1)),
        ("projectId", json!(7)),
        ("jti", json!(7)),
        ("iss", json!(false)),
        ("sub", json!(true)),
        ("sub", json!({"id": 10})),
        ("sub", json!([10])),
        ("aud", json!(1)),
        ("aud", json!([BASE, 1])),
        ("aud", json!({"url": BASE})),
    ];
    for (name, value) in cases {
        let r = refused(Some(&sign(
            &set(claims(), name, value.clone()),
            ACME_SECRET,
        )));
        assert_eq!(r.reason, Reason::TokenMalformed, "{name} = {value}");
    }
}

#[test]
fn null_claims_count_as_absent() {
    let c = set(set(claims(), "role", Value::Null), "aud", Value::Null);
    let c = set(set(c, "nbf", Value::Null), "jti", Value::Null);
    admitted(&sign(&c, ACME_SECRET));
    let r = refused(Some(&sign(&set(claims(), "exp", Value::Null), ACME_SECRET)));
    assert_eq!(r.reason, Reason::MissingClaim("exp"));
}

/// A token of exactly `len` bytes, padded with a long `name`.
fn token_of_len(len: usize) -> Option<String> {
    const SIGNATURE_LEN: usize = 43; // 32 bytes of HMAC-SHA256 in base64url
    for header_pad in 0..4 {
        let header = json!({"alg": "HS256", "typ": "JWT", "x": "y".repeat(header_pad)});
        let h = b64(&serde_json::to_vec(&header).unwrap());
        for name_len in 5_000..6_500 {
            let c = set(claims(), "name", json!("n".repeat(name_len)));
            let p = b64(&serde_json::to_vec(&c).unwrap());
            let total = h.len() + 1 + p.len() + 1 + SIGNATURE_LEN;
            if total == len {
                let token = sign_with_header(&header, &c, ACME_SECRET);
                assert_eq!(token.len(), len);
                return Some(token);
            }
            if total > len {
                break;
            }
        }
    }
    None
}

#[test]
fn size_limit_is_8_kib() {
    let at_limit = token_of_len(8 * 1024).unwrap();
    let (_, a) = admitted(&at_limit);
    assert_eq!(new_identity(&a).1.chars().count(), input::MAX_NAME_CHARS);

    let over = token_of_len(8 * 1024 + 1).unwrap();
    let r = refused(Some(&over));
    assert_eq!(r.reason, Reason::TokenMalformed);
    assert!(!r.detail.contains(&over));
}

#[test]
fn padded_header_and_payload_are_tolerated() {
    let token = sign(&claims(), ACME_SECRET);
    let (h, p, _) = parts(&token);
    let input = format!("{h}==.{p}=");
    let token = format!("{input}.{}", hmac(&input, ACME_SECRET));
    admitted(&token);
}

#[test]
fn only_hs256_is_accepted() {
    let c = claims();
    let mut tokens = vec![
        ("HS384", sign_alg(Algorithm::HS384, &c, ACME_SECRET)),
        ("HS512", sign_alg(Algorithm::HS512, &c, ACME_SECRET)),
    ];
    for alg in [
        json!("none"),
        json!("None"),
        json!("NONE"),
        json!("hs256"),
        json!("HS256 "),
        json!("RS256"),
        json!("ES256"),
        json!("PS256"),
        json!("EdDSA"),
        json!(""),
        json!(256),
        json!(["HS256"]),
        Value::Null,
    ] {
        let header = json!({"alg": alg, "typ": "JWT"});
        tokens.push(("header alg", sign_with_header(&header, &c, ACME_SECRET)));
    }
    tokens.push((
        "no alg",
        sign_with_header(&json!({"typ": "JWT"}), &c, ACME_SECRET),
    ));
    // alg none with an empty signature, the classic forgery.
    let unsigned = {
        let (_, p, _) = parts(&tokens[0].1);
        format!("{}.{p}.", b64(br#"{"alg":"none"}"#))
    };
    tokens.push(("none, unsigned", unsigned));
    for (what, token) in tokens {
        let r = refused(Some(&token));
        assert_eq!(
            r.reason,
            Reason::UnsupportedAlgorithm,
            "{what}: {}",
            r.detail
        );
        assert!(r.company.is_none());
    }
    // Other header fields do not matter.
    let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": "k1", "cty": "x"});
    admitted(&sign_with_header(&header, &c, ACME_SECRET));
    admitted(&sign_with_header(&json!({"alg": "HS256"}), &c, ACME_SECRET));
}

// ---------------------------------------------------------------------------
// Check 4: the company; sub.

#[test]
fn company_from_company_id() {
    let (v, _) = admitted(&sign(&claims(), ACME_SECRET));
    assert_eq!(v.company.id, ACME_ID);
    let globex = set(claims(), "companyId", json!(GLOBEX));
    let (v, _) = admitted(&sign(
        &set(globex, "email", json!("g@globex.test")),
        GLOBEX_SECRET,
    ));
    assert_eq!(v.company.id, GLOBEX_ID);
    // The ID is matched exactly.
    for id in ["CMP_ACME", " cmp_acme", "cmp_acme ", "", "acme"] {
        assert_eq!(
            code(&set(claims(), "companyId", json!(id)), ACME_SECRET),
            "unknown_company",
            "{id:?}"
        );
    }
}

#[test]
fn without_company_id_the_company_comes_from_sub() {
    let c = unset(unset(claims(), "companyId"), "email");
    for sub in [json!(ALICE), json!("10"), json!(" 10 ")] {
        let (v, a) = admitted(&sign(&set(c.clone(), "sub", sub.clone()), ACME_SECRET));
        assert_eq!(v.company.id, ACME_ID, "sub {sub}");
        assert_eq!(existing_id(&a), ALICE, "sub {sub}");
    }
    // Bob's company is Globex: its secret signs, Acme's does not.
    let bob = set(c.clone(), "sub", json!(BOB));
    let (v, a) = admitted(&sign(&bob, GLOBEX_SECRET));
    assert_eq!((v.company.id, existing_id(&a)), (GLOBEX_ID, BOB));
    let r = refused(Some(&sign(&bob, ACME_SECRET)));
    assert_eq!(r.reason, Reason::BadSignature);
    assert_eq!(r.company.map(|co| co.id), Some(GLOBEX_ID));
    // With an email too, the email is the identity; the company still comes from sub.
    let (v, a) = admitted(&sign(
        &set(
            set(c.clone(), "sub", json!(ALICE)),
            "email",
            json!("x@acme.test"),
        ),
        ACME_SECRET,
    ));
    assert_eq!(v.company.id, ACME_ID);
    assert_eq!(new_identity(&a).0, "x@acme.test");
}

#[test]
fn sub_that_is_not_a_user_id() {
    let c = unset(unset(claims(), "companyId"), "email");
    // Without companyId: no company to be had.
    for sub in [
        json!("alice"),
        json!(-10),
        json!("-10"),
        json!(0),
        json!("0"),
        json!(""),
    ] {
        let r = refused(Some(&sign(
            &set(c.clone(), "sub", sub.clone()),
            ACME_SECRET,
        )));
        assert_eq!(r.reason, Reason::MissingClaim("companyId"), "sub {sub}");
        assert!(r.company.is_none());
    }
    for sub in [json!(999), json!("999"), json!(i64::MAX)] {
        let r = refused(Some(&sign(
            &set(c.clone(), "sub", sub.clone()),
            ACME_SECRET,
        )));
        assert_eq!(r.reason, Reason::UnknownCompany, "sub {sub}");
        assert!(r.company.is_none());
    }
    // With companyId: no user to be had.
    let c = set(c, "companyId", json!(ACME));
    for sub in [
        json!("alice"),
        json!(-10),
        json!(0),
        json!(999),
        json!(BOB),
        json!("20"),
        json!(u64::MAX),
    ] {
        let r = refused(Some(&sign(
            &set(c.clone(), "sub", sub.clone()),
            ACME_SECRET,
        )));
        assert_eq!(r.reason, Reason::UnknownUser, "sub {sub}");
        assert_eq!(r.reason.status(), 400);
        assert_eq!(r.company.map(|co| co.id), Some(ACME_ID));
    }
}

#[test]
fn company_id_wins_over_sub() {
    // companyId Acme, sub naming Globex's Bob: the company is Acme.
    let c = set(claims(), "sub", json!(BOB));
    let (v, _) = admitted(&sign(&c, ACME_SECRET));
    assert_eq!(v.company.id, ACME_ID);
    assert_eq!(code(&c, GLOBEX_SECRET), "bad_signature");
}

// ---------------------------------------------------------------------------
// Checks 5–6: secrets and signature.

#[test]
fn a_company_without_secret_is_not_configured() {
    let r = refused(Some(&sign(
        &set(claims(), "companyId", json!(INITECH)),
        ACME_SECRET,
    )));
    assert_eq!(r.reason, Reason::SsoNotConfigured);
    assert_eq!(r.company.map(|co| co.id), Some(INITECH_ID));
}

#[test]
fn signature_under_current_secret() {
    let (v, _) = admitted(&sign(&claims(), ACME_SECRET));
    assert_eq!(v.secret_id, ACME_SECRET_ID);
}

#[test]
fn previous_secret_is_accepted_only_while_in_grace() {
    let (v, _) = admitted(&sign(&claims(), ACME_PREVIOUS));
    assert_eq!(v.secret_id, ACME_PREVIOUS_ID);

    // Globex's previous secret is past its grace.
    let globex = set(
        set(claims(), "companyId", json!(GLOBEX)),
        "email",
        json!("g@globex.test"),
    );
    admitted(&sign(&globex, GLOBEX_SECRET));
    let r = refused(Some(&sign(&globex, GLOBEX_EXPIRED)));
    assert_eq!(r.reason, Reason::BadSignature);

    // The grace of Acme's previous secret ends at NOW + 3600, exclusive.
    let later = set(
        set(claims(), "iat", json!(NOW + 3_500)),
        "exp",
        json!(NOW + 3_800),
    );
    let token = sign(&later, ACME_PREVIOUS);
    let late = |now: i64| {
        let c = Context {
            now,
            base_url: BASE,
        };
        rules::verify(Some(&token), &c, &mut Fake::new())
    };
    assert!(late(NOW + 3_599).is_ok());
    match late(NOW + 3_600) {
        Err(Failure::Refused(r)) => assert_eq!(r.reason, Reason::BadSignature),
        other => panic!("expected bad_signature, got {other:?}"),
    }
}

#[test]
fn secrets_of_others_and_forged_signatures_are_refused() {
    let c = claims();
    let good = sign(&c, ACME_SECRET);
    let (h, p, s) = parts(&good);
    let mut flipped = s.to_owned().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let tokens = vec![
        ("wrong secret", sign(&c, WRONG_SECRET)),
        ("Globex's secret", sign(&c, GLOBEX_SECRET)),
        ("empty-ish secret", sign(&c, "x")),
        (
            "secret with a trailing newline",
            sign(&c, &format!("{ACME_SECRET}\n")),
        ),
        (
            "secret in upper case",
            sign(&c, &ACME_SECRET.to_uppercase()),
        ),
        ("no signature", format!("{h}.{p}.")),
        ("signature flipped", format!("{h}.{p}.{flipped}")),
        ("signature not base64", format!("{h}.{p}.!!!")),
        ("signature padded", format!("{h}.{p}.{s}=")),
        (
            "signature truncated",
            format!("{h}.{p}.{}", &s[..s.len() - 2]),
        ),
        (
            "payload swapped",
            swap_payload(&good, &set(c.clone(), "email", json!("alice@acme.test"))),
        ),
        ("HS384 signature under an HS256 header", {
            let other = sign_alg(Algorithm::HS384, &c, ACME_SECRET);
            format!("{h}.{p}.{}", parts(&other).2)
        }),
    ];
    for (what, token) in tokens {
        let r = refused(Some(&token));
        assert_eq!(r.reason, Reason::BadSignature, "{what}: {}", r.detail);
        assert_eq!(r.reason.status(), 401);
        assert_eq!(r.company.as_ref().map(|co| co.id), Some(ACME_ID));
    }
}

// ---------------------------------------------------------------------------
// Checks 7–8: times, with 60 s of leeway.

#[test]
fn exp_leeway_is_60_seconds() {
    // iat = exp − 60 keeps the lifetime short.
    let at = |exp: i64| set(set(claims(), "exp", json!(exp)), "iat", json!(exp - 60));
    assert_eq!(code(&at(NOW), ACME_SECRET), "ok");
    assert_eq!(code(&at(NOW - 1), ACME_SECRET), "ok");
    assert_eq!(code(&at(NOW - 60), ACME_SECRET), "ok");
    assert_eq!(code(&at(NOW - 61), ACME_SECRET), "token_expired");
    assert_eq!(code(&at(NOW - 86_400), ACME_SECRET), "token_expired");
    assert_eq!(code(&at(0), ACME_SECRET), "token_expired");
    assert_eq!(code(&at(-1), ACME_SECRET), "token_expired");
    // Fractions are dropped (floored).
    let frac = set(
        set(claims(), "exp", json!(NOW as f64 - 60.5)),
        "iat",
        json!(NOW - 100),
    );
    assert_eq!(code(&frac, ACME_SECRET), "token_expired");
    let frac = set(
        set(claims(), "exp", json!(NOW as f64 - 59.5)),
        "iat",
        json!(NOW - 100),
    );
    assert_eq!(code(&frac, ACME_SECRET), "ok");
}

#[test]
fn nbf_and_iat_leeway_is_60_seconds() {
    for name in ["nbf", "iat"] {
        let at = |t: i64| set(set(claims(), name, json!(t)), "exp", json!(NOW + 300));
        assert_eq!(code(&at(NOW + 60), ACME_SECRET), "ok", "{name}");
        assert_eq!(
            code(&at(NOW + 61), ACME_SECRET),
            "token_not_yet_valid",
            "{name}"
        );
        assert_eq!(code(&at(NOW - 100), ACME_SECRET), "ok", "{name}");
        assert_eq!(
            code(&at(i64::MAX), ACME_SECRET),
            "token_not_yet_valid",
            "{name}"
        );
    }
    // Neither is required.
    let c = unset(unset(claims(), "iat"), "nbf");
    assert_eq!(code(&c, ACME_SECRET), "ok");
}

#[test]
fn extreme_numeric_dates_do_not_overflow() {
    let cases = [
        (json!(i64::MIN), json!(NOW), "token_expired"),
        (json!(-1e300), json!(NOW), "token_expired"),
        (json!(i64::MAX), json!(NOW), "lifetime_too_long"),
        (json!(u64::MAX), json!(NOW), "lifetime_too_long"),
        (json!(1e300), json!(NOW), "lifetime_too_long"),
        (json!(NOW + 100), json!(i64::MIN), "lifetime_too_long"),
        (json!(NOW + 100), json!(-1e300), "lifetime_too_long"),
        (json!(i64::MAX), json!(i64::MIN), "lifetime_too_long"),
    ];
    for (exp, iat, expected) in cases {
        let c = set(set(claims(), "exp", exp.clone()), "iat", iat.clone());
        assert_eq!(code(&c, ACME_SECRET), expected, "exp {exp}, iat {iat}");
    }
}

// ---------------------------------------------------------------------------
// Check 8a: the audience.

#[test]
fn accepted_audiences() {
    let accepted = [
        json!(BASE),
        json!(format!("{BASE}/")),
        json!(ACME),
        json!([BASE]),
        json!([ACME]),
        json!(["https://other.example", ACME]),
        json!(["https://other.example", format!("{BASE}/")]),
    ];
    for aud in accepted {
        assert_eq!(
            code(&set(claims(), "aud", aud.clone()), ACME_SECRET),
            "ok",
            "aud {aud}"
        );
    }
}

#[test]
fn refused_audiences() {
    let refused_auds = [
        json!("https://evil.example"),
        json!(format!("{BASE}/app")),
        json!(format!("{BASE}.evil.example")),
        json!("portal.example.com"),
        json!("http://portal.example.com"),
        json!(GLOBEX),
        json!(format!("{ACME}/")),
        json!(""),
        json!(["https://other.example"]),
        json!([GLOBEX, "https://evil.example"]),
        json!([""]),
    ];
    for aud in refused_auds {
        let r = refused(Some(&sign(&set(claims(), "aud", aud.clone()), ACME_SECRET)));
        assert_eq!(r.reason, Reason::InvalidAudience, "aud {aud}");
        assert_eq!(r.reason.status(), 401);
    }
}

#[test]
fn base_url_with_a_trailing_slash_accepts_either_form() {
    let ctx = Context {
        now: NOW,
        base_url: "https://portal.example.com/",
    };
    for aud in [BASE, "https://portal.example.com/", ACME] {
        let token = sign(&set(claims(), "aud", json!(aud)), ACME_SECRET);
        assert!(
            check_in(Some(&token), &ctx, &mut Fake::new()).is_ok(),
            "aud {aud}"
        );
    }
}

#[test]
fn empty_audience_array_is_refused() {
    let r = refused(Some(&sign(&set(claims(), "aud", json!([])), ACME_SECRET)));
    assert_eq!(r.reason, Reason::InvalidAudience);
}

// ---------------------------------------------------------------------------
// Check 9: the lifetime.

#[test]
fn lifetime_edges_with_iat() {
    let life = |iat: i64, exp: i64| set(set(claims(), "iat", json!(iat)), "exp", json!(exp));
    assert_eq!(code(&life(NOW, NOW + MAX_LIFETIME), ACME_SECRET), "ok");
    assert_eq!(
        code(&life(NOW, NOW + MAX_LIFETIME + 1), ACME_SECRET),
        "lifetime_too_long"
    );
    // exp − iat counts, not exp − now.
    assert_eq!(
        code(&life(NOW - 100, NOW + MAX_LIFETIME - 100), ACME_SECRET),
        "ok"
    );
    assert_eq!(
        code(&life(NOW - 100, NOW + MAX_LIFETIME - 99), ACME_SECRET),
        "lifetime_too_long"
    );
    // Even with iat slightly ahead (within leeway).
    assert_eq!(
        code(&life(NOW + 30, NOW + 30 + MAX_LIFETIME), ACME_SECRET),
        "ok"
    );
    // exp before iat is a negative lifetime, not an error of its own.
    assert_eq!(code(&life(NOW, NOW - 10), ACME_SECRET), "ok");
}

#[test]
fn lifetime_edges_without_iat_use_exp_minus_now() {
    let exp = |e: i64| set(unset(claims(), "iat"), "exp", json!(e));
    assert_eq!(code(&exp(NOW + MAX_LIFETIME), ACME_SECRET), "ok");
    assert_eq!(
        code(&exp(NOW + MAX_LIFETIME + 1), ACME_SECRET),
        "lifetime_too_long"
    );
    // nbf does not stand in for iat.
    let c = set(exp(NOW + MAX_LIFETIME + 1), "nbf", json!(NOW));
    assert_eq!(code(&c, ACME_SECRET), "lifetime_too_long");
}

#[test]
fn lifetime_is_per_company() {
    // Globex allows an hour.
    let c = set(
        set(claims(), "companyId", json!(GLOBEX)),
        "email",
        json!("g@globex.test"),
    );
    let c = set(c, "exp", json!(NOW + 3_600));
    assert_eq!(code(&c, GLOBEX_SECRET), "ok");
    assert_eq!(
        code(&set(c, "exp", json!(NOW + 3_601)), GLOBEX_SECRET),
        "lifetime_too_long"
    );
}
