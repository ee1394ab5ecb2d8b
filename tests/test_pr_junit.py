"""JUnit XML as the reporters CI actually runs write it, and as an attacker might."""

from __future__ import annotations

from pathlib import Path

from commitledger.pr.signals.junit import read_junit

PYTEST = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5"
 time="0.312" timestamp="2026-11-20T10:01:58.112233+00:00" hostname="runner">
<testcase classname="tests.test_retry" name="test_ok" time="0.001" />
<testcase classname="tests.test_retry" name="test_backoff" time="0.010"><failure message="assert 2 == 3">def test_backoff():
&gt;       assert backoff(1) == 3
E       assert 2 == 3</failure></testcase>
<testcase classname="tests.test_retry" name="test_fixture" time="0.000"><error message="failed on setup with &quot;fixture 'db' not found&quot;">fixture 'db' not found</error></testcase>
<testcase classname="tests.test_retry" name="test_slow" time="0.000"><skipped type="pytest.skip" message="slow">tests/test_retry.py:40: slow</skipped></testcase>
<testcase classname="tests.test_retry" name="test_param[1-2]" time="0.001"><system-out>ok</system-out></testcase>
</testsuite></testsuites>
"""

JEST = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="4" failures="1" errors="0" time="1.204">
  <testsuite name="uploader" errors="0" failures="1" skipped="1" timestamp="2026-11-20T10:01:57" time="0.81" tests="3">
    <testcase classname="uploader retries on 502" name="uploader retries on 502" time="0.004">
    </testcase>
    <testcase classname="uploader gives up after 3 tries" name="uploader gives up after 3 tries" time="0.002">
      <failure>Error: expect(received).toBe(expected) // Object.is equality

Expected: 3
Received: 4
    at Object.&lt;anonymous&gt; (src/uploader.test.js:21:17)</failure>
    </testcase>
    <testcase classname="uploader todo: resumes" name="uploader todo: resumes" time="0">
      <skipped/>
    </testcase>
  </testsuite>
  <testsuite name="format" errors="0" failures="0" skipped="0" timestamp="2026-11-20T10:01:58" time="0.1" tests="1">
    <testcase classname="format humanises" name="format humanises" time="0.001">
    </testcase>
  </testsuite>
</testsuites>
"""

SUREFIRE = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report-3.0.xsd" version="3.0" name="com.example.UploaderTest" time="0.052" tests="3" errors="1" skipped="0" failures="0">
  <properties>
    <property name="java.version" value="21.0.2"/>
    <property name="os.name" value="Linux"/>
  </properties>
  <testcase name="retriesOn502" classname="com.example.UploaderTest" time="0.011"/>
  <testcase name="givesUp" classname="com.example.UploaderTest" time="0.003"/>
  <testcase name="nullUrl" classname="com.example.UploaderTest" time="0.001">
    <error message="Cannot invoke &quot;String.length()&quot;" type="java.lang.NullPointerException"><![CDATA[java.lang.NullPointerException
	at com.example.Uploader.upload(Uploader.java:42)]]></error>
    <system-out><![CDATA[starting upload]]></system-out>
  </testcase>
</testsuite>
"""

GO_JUNIT_REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="4" failures="1">
	<testsuite name="example.com/uploader" tests="3" failures="1" errors="0" id="0" hostname="runner" time="0.012" timestamp="2026-11-20T10:01:58Z">
		<properties>
			<property name="go.version" value="go1.23.2 linux/amd64"></property>
		</properties>
		<testcase name="TestRetry" classname="example.com/uploader" time="0.001"></testcase>
		<testcase name="TestRetry/502" classname="example.com/uploader" time="0.000"></testcase>
		<testcase name="TestGiveUp" classname="example.com/uploader" time="0.003">
			<failure message="Failed" type="">    uploader_test.go:31: got 4 tries, want 3</failure>
		</testcase>
		<system-out><![CDATA[=== RUN   TestRetry]]></system-out>
	</testsuite>
	<testsuite name="example.com/format" tests="1" failures="0" errors="0" id="1" hostname="runner" time="0.001" timestamp="2026-11-20T10:01:58Z">
		<testcase name="TestHumanise" classname="example.com/format" time="0.000">
			<skipped message="    format_test.go:9: flaky on CI"></skipped>
		</testcase>
	</testsuite>
</testsuites>
"""

# go-junit-report v1 and some Gradle setups: suites nested in a suite
NESTED = """<testsuites><testsuite name="outer"><testcase name="a"/>
<testsuite name="inner"><testcase name="b"/><testcase name="c"><failure/></testcase></testsuite>
</testsuite></testsuites>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<testsuite name="&lol4;"><testcase name="x"/></testsuite>
"""


def write(dir_: Path, name: str, text: str) -> Path:
    path = dir_ / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_pytest_report(tmp_path: Path) -> None:
    write(tmp_path, "junit.xml", PYTEST)
    tests, warnings = read_junit(["junit.xml"], tmp_path)
    assert warnings == []
    assert tests is not None
    assert (tests.passed, tests.failed, tests.errors, tests.skipped) == (2, 1, 1, 1)
    assert tests.failures == ["tests.test_retry::test_backoff", "tests.test_retry::test_fixture"]
    assert tests.files == 1


def test_jest_junit_report(tmp_path: Path) -> None:
    write(tmp_path, "reports/jest-junit.xml", JEST)
    tests, _ = read_junit(["reports/*.xml"], tmp_path)
    assert tests is not None
    assert (tests.passed, tests.failed, tests.errors, tests.skipped) == (2, 1, 0, 1)
    assert tests.failures == ["uploader gives up after 3 tries::uploader gives up after 3 tries"]


def test_surefire_report_with_testsuite_root(tmp_path: Path) -> None:
    write(tmp_path, "target/surefire-reports/TEST-com.example.UploaderTest.xml", SUREFIRE)
    tests, _ = read_junit(["target/surefire-reports/TEST-*.xml"], tmp_path)
    assert tests is not None
    assert (tests.passed, tests.failed, tests.errors, tests.skipped) == (2, 0, 1, 0)
    assert tests.failures == ["com.example.UploaderTest::nullUrl"]


def test_go_junit_report(tmp_path: Path) -> None:
    write(tmp_path, "go.xml", GO_JUNIT_REPORT)
    tests, _ = read_junit(["go.xml"], tmp_path)
    assert tests is not None
    assert (tests.passed, tests.failed, tests.errors, tests.skipped) == (2, 1, 0, 1)


def test_nested_suites_counted_once(tmp_path: Path) -> None:
    write(tmp_path, "nested.xml", NESTED)
    tests, _ = read_junit(["nested.xml"], tmp_path)
    assert tests is not None
    assert (tests.passed, tests.failed) == (2, 1)


def test_several_globs_and_files_are_summed_once(tmp_path: Path) -> None:
    write(tmp_path, "a/junit.xml", PYTEST)
    write(tmp_path, "b/go.xml", GO_JUNIT_REPORT)
    tests, _ = read_junit(["**/*.xml", "a/junit.xml"], tmp_path)
    assert tests is not None and tests.files == 2
    assert tests.passed == 4 and tests.failed == 2


def test_no_file_matched_is_not_reported(tmp_path: Path) -> None:
    tests, warnings = read_junit(["missing/*.xml"], tmp_path)
    assert tests is None
    assert warnings == ["no JUnit file matched missing/*.xml: tests not reported"]
    assert read_junit([], tmp_path) == (None, [])


def test_malformed_file_is_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "r/good.xml", PYTEST)
    write(tmp_path, "r/bad.xml", "<testsuite><testcase name='x'>")
    write(tmp_path, "r/html.xml", "<html><body>502 Bad Gateway</body></html>")
    tests, warnings = read_junit(["r/*.xml"], tmp_path)
    assert tests is not None and tests.passed == 2 and tests.files == 1
    assert len(warnings) == 2
    assert any(w.startswith("JUnit file r/bad.xml skipped: not well-formed XML") for w in warnings)
    assert any(w.startswith("JUnit file r/html.xml skipped: not JUnit XML") for w in warnings)
    assert tests.warnings == warnings


def test_only_malformed_files_is_not_reported(tmp_path: Path) -> None:
    write(tmp_path, "bad.xml", "not xml at all")
    tests, warnings = read_junit(["bad.xml"], tmp_path)
    assert tests is None and len(warnings) == 1


def test_entity_bomb_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "bomb.xml", BILLION_LAUGHS)
    tests, warnings = read_junit(["bomb.xml"], tmp_path)
    assert tests is None
    assert warnings == ["JUnit file bomb.xml skipped: refused unsafe XML (EntitiesForbidden)"]


def test_external_entity_is_refused(tmp_path: Path) -> None:
    secret = write(tmp_path, "secret.txt", "TOKEN-abc123")
    write(
        tmp_path,
        "xxe.xml",
        f'<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        '<testsuite name="s"><testcase name="&xxe;"/></testsuite>\n',
    )
    tests, warnings = read_junit(["xxe.xml"], tmp_path)
    assert tests is None
    assert len(warnings) == 1 and "refused unsafe XML" in warnings[0]
    assert "TOKEN" not in warnings[0]
