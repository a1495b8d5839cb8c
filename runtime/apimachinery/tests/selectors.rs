//! Label and field selectors with kube-apiserver's texts.

use std::collections::BTreeMap;

use serde_json::json;
use wasmpod_apimachinery::fields::supported_fields;
use wasmpod_apimachinery::{
    format_label_selector, format_labels, selectable_fields, FieldSelector, Selector,
};

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn label_selector_syntax_and_matching() {
    let l = labels(&[("app", "web"), ("tier", "front"), ("n", "5")]);
    let matching = [
        "app=web",
        "app==web",
        "app!=db",
        "app in (web,db)",
        "app notin (db)",
        "app",
        "!missing",
        "app=web,tier=front",
        "n>4",
        "n<6",
        "missing!=x",
        "missing notin (x)",
        "",
        "  app = web  ",
    ];
    for s in matching {
        assert!(
            Selector::parse(s).unwrap().matches(&l),
            "{s:?} should match"
        );
    }
    let failing = [
        "app=db",
        "app in (db)",
        "!app",
        "missing",
        "n>5",
        "n<5",
        "app=web,tier=back",
        "missing in (x)",
    ];
    for s in failing {
        assert!(
            !Selector::parse(s).unwrap().matches(&l),
            "{s:?} should not match"
        );
    }
}

#[test]
fn label_selector_canonical_string() {
    let s = Selector::parse("tier notin (b,a), app in (y,x),!gone,present,v==1,n>3").unwrap();
    assert_eq!(
        s.to_string(),
        "app in (x,y),!gone,n>3,present,tier notin (a,b),v==1"
    );
    assert_eq!(Selector::parse("x in ()").unwrap().to_string(), "x in ()");
    assert_eq!(Selector::parse("a=").unwrap().to_string(), "a=");
}

#[test]
fn label_selector_parse_errors() {
    let cases = [
        ("app=web,", "found '', expected: identifier after ','"),
        ("=web", "found '=', expected: !, identifier, or 'end of string'"),
        ("app web", "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt"),
        ("app in web", "unable to parse requirement: found 'web' expected: '('"),
        ("app in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"),
        ("app=a=b", "found '=', expected: ',' or 'end of string'"),
        (
            "-app=x",
            "unable to parse requirement: <nil>: Invalid value: \"-app\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ),
        (
            "app=-x",
            "unable to parse requirement: values[0][app]: Invalid value: \"-x\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
        ("n>x", "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer"),
    ];
    for (input, want) in cases {
        assert_eq!(
            Selector::parse(input).unwrap_err().to_string(),
            want,
            "input {input:?}"
        );
    }
}

#[test]
fn metav1_label_selector_conversion() {
    let sel = json!({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["front", "edge"]},
            {"key": "legacy", "operator": "DoesNotExist"}
        ]
    });
    let s = Selector::from_label_selector(Some(&sel)).unwrap();
    assert_eq!(s.to_string(), "app=web,!legacy,tier in (edge,front)");
    assert!(s.matches(&labels(&[("app", "web"), ("tier", "edge")])));
    assert!(!s.matches(&labels(&[
        ("app", "web"),
        ("tier", "edge"),
        ("legacy", "1")
    ])));
    assert_eq!(
        format_label_selector(Some(&sel)),
        "app=web,!legacy,tier in (edge,front)"
    );

    // nil matches nothing, empty matches everything.
    assert!(!Selector::from_label_selector(None)
        .unwrap()
        .matches(&labels(&[])));
    assert!(Selector::from_label_selector(Some(&json!({})))
        .unwrap()
        .matches(&labels(&[("a", "b")])));
    assert_eq!(format_label_selector(None), "<none>");
    assert_eq!(format_label_selector(Some(&json!({}))), "<none>");

    let bad_op = json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]});
    assert_eq!(
        Selector::from_label_selector(Some(&bad_op))
            .unwrap_err()
            .to_string(),
        "\"Gt\" is not a valid label selector operator"
    );
    assert_eq!(format_label_selector(Some(&bad_op)), "<error>");
    let empty_in = json!({"matchExpressions": [{"key": "a", "operator": "In"}]});
    assert_eq!(
        Selector::from_label_selector(Some(&empty_in))
            .unwrap_err()
            .to_string(),
        "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"
    );
    let exists_with_values =
        json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]});
    assert_eq!(
        Selector::from_label_selector(Some(&exists_with_values))
            .unwrap_err()
            .to_string(),
        "values: Invalid value: [\"x\"]: values set must be empty for exists and does not exist"
    );
}

#[test]
fn label_selector_matches_json_labels() {
    let pod_labels = json!({"app": "web"});
    assert!(Selector::parse("app=web").unwrap().matches(&pod_labels));
    assert!(!Selector::parse("app")
        .unwrap()
        .matches(&serde_json::Value::Null));
    assert_eq!(format_labels(Some(&json!({"b": "2", "a": "1"}))), "a=1,b=2");
    assert_eq!(format_labels(None), "<none>");
    assert_eq!(
        Selector::parse("app=web")
            .unwrap()
            .requires_exact_match("app"),
        Some("web")
    );
}

#[test]
fn field_selector_parsing_and_escaping() {
    let s = FieldSelector::parse("status.phase!=Failed,metadata.name==a\\,b").unwrap();
    assert_eq!(s.to_string(), "metadata.name=a\\,b,status.phase!=Failed");
    assert!(s.matches(|f| match f {
        "metadata.name" => Some("a,b".into()),
        "status.phase" => Some("Running".into()),
        _ => None,
    }));
    assert!(FieldSelector::parse("").unwrap().is_empty());
    assert_eq!(
        FieldSelector::parse("foo").unwrap_err().to_string(),
        "invalid selector: 'foo'; can't understand 'foo'"
    );
    assert_eq!(
        FieldSelector::parse("a=b=c").unwrap_err().to_string(),
        "invalid field selector: unescapedRune character in value: 61"
    );
    assert_eq!(
        FieldSelector::parse("a=b\\x").unwrap_err().to_string(),
        "invalid field selector: invalid escape sequence: \\x"
    );
    assert_eq!(
        FieldSelector::parse("a=")
            .unwrap()
            .requires_exact_match("a"),
        Some("")
    );
}

#[test]
fn field_selectors_per_kind() {
    let pod = json!({
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"nodeName": "n1", "restartPolicy": "Always", "hostNetwork": true},
        "status": {"phase": "Running", "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}]}
    });
    let fields = selectable_fields("Pod", &pod);
    assert_eq!(fields["spec.hostNetwork"], "true");
    assert_eq!(fields["status.podIP"], "10.0.0.5");
    assert_eq!(fields["spec.schedulerName"], "");
    let s = FieldSelector::parse("spec.host=n1,status.phase=Running")
        .unwrap()
        .for_kind("Pod")
        .unwrap();
    assert!(s.matches_object("Pod", &pod));
    assert_eq!(
        FieldSelector::parse("foo=bar")
            .unwrap()
            .for_kind("Pod")
            .unwrap_err()
            .to_string(),
        "field label not supported: foo"
    );
    assert_eq!(
        FieldSelector::parse("spec.x=1")
            .unwrap()
            .for_kind("ConfigMap")
            .unwrap_err()
            .to_string(),
        "\"spec.x\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
    assert!(supported_fields("Event")
        .unwrap()
        .contains(&"involvedObject.uid"));

    let event = json!({
        "metadata": {"name": "e1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default", "uid": "u1"},
        "reason": "Started", "type": "Normal", "reportingComponent": "kubelet"
    });
    let s = FieldSelector::parse(
        "involvedObject.name=web,involvedObject.namespace=default,involvedObject.uid=u1",
    )
    .unwrap()
    .for_kind("Event")
    .unwrap();
    assert!(s.matches_object("Event", &event));
    assert_eq!(selectable_fields("Event", &event)["source"], "kubelet");
    assert!(!FieldSelector::parse("involvedObject.uid=other")
        .unwrap()
        .matches_object("Event", &event));
}
