// Jinja builtins: filters, tests, str/dict methods, globals and Undefined semantics. Expected outputs were
// produced by Python's jinja2 with Hugging Face's settings.
#include <ctime>

#include "jinja_test_util.h"

namespace edgellm::jinja {
namespace {

using test::RenderCase;

const RenderCase kBuiltinCases[] = {
    {"{{ '  pad  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ [1,2,3] | length }} {{ 'héllo' | length }} {{ {'a':1} | "
     "count }}|{{ [1,2] | join(', ') }}|{{ 'AbC' | lower }}{{ 'abc' | upper }}",
     "{}", "pad|hi|3 5 1|1, 2|abcABC"},
    {"{{ u | default('d') }} {{ '' | default('e', true) }} {{ 0 | d('z') }} {{ [3,4] | first }} {{ [3,4] | last }} {{ "
     "'ab' | list }} {{ ['b','A','a'] | unique | list }}",
     "{}", "d e 0 3 4 ['a', 'b'] ['b', 'A']"},
    {"{{ users | map(attribute='name') | join(',') }} {{ users | selectattr('admin') | map(attribute='name') | list }} "
     "{{ users | rejectattr('admin') | map(attribute='name') | list }} {{ users | selectattr('name', 'equalto', 'b') | "
     "list | length }}",
     "{\"users\": [{\"name\": \"a\", \"admin\": true}, {\"name\": \"b\", \"admin\": false}, {\"name\": \"c\"}]}",
     "a,b,c ['a'] ['b', 'c'] 1"},
    {"{{ [1,2,3,4] | select('even') | list }} {{ [1,2,3,4] | reject('odd') | list }} {{ ['a','B'] | map('upper') | "
     "list }} {{ [0,1,'',2] | select | list }}",
     "{}", "[2, 4] [2, 4] ['A', 'B'] [1, 2]"},
    {"{{ 'a b' | replace(' ', '_') }} {{ 42 | string }} {{ '12' | int + 1 }} {{ 'x' | int }} {{ 3.9 | int }} {{ '2.5' "
     "| float }} {{ -3 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ '<a>' | safe }} {{ '<a&\"b\">' | escape }}",
     "{}", "a_b 42 13 0 3 2.5 3 2.57 2.0 <a> &lt;a&amp;&#34;b&#34;&gt;"},
    {"{{ d | items | list }} {{ d | dictsort }} {{ 'one two  three' | wordcount }} {{ 'hello world' | title }} {{ "
     "'hELLO' | capitalize }}",
     "{\"d\": {\"b\": 1, \"A\": 2}}", "[('b', 1), ('A', 2)] [('A', 2), ('b', 1)] 3 Hello World Hello"},
    {"{{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}|{{ 'a\n\nb\n' | indent(4, blank=true) }}|", "{}",
     "a\n  b\n\n  c|  a\n  b|a\n    \n    b\n    |"},
    {"{{ x | tojson }} {{ x | tojson(indent=2) }} {{ 'é\"\\n' | tojson }} {{ x | tojson(sort_keys=true) }} {{ 1.0 | "
     "tojson }} {{ none | tojson }}",
     "{\"x\": {\"b\": [1, 2.5, true, null], \"a\": {}}}",
     "{\"b\": [1, 2.5, true, null], \"a\": {}} {\n  \"b\": [\n    1,\n    2.5,\n    true,\n    null\n  ],\n  \"a\": "
     "{}\n} \"é\\\"\\n\" {\"a\": {}, \"b\": [1, 2.5, true, null]} 1.0 null"},
    {"{{ [3,1,2] | sort }} {{ [3,1,2] | sort(reverse=true) }} {{ [1,2,3] | sum }} {{ [1,2,3] | max }} {{ [1,2,3] | min "
     "}} {{ [1,2] | reverse | list }}",
     "{}", "[1, 2, 3] [3, 2, 1] 6 3 1 [2, 1]"},
    {"{{ x is defined }} {{ y is undefined }} {{ none is none }} {{ 's' is string }} {{ {} is mapping }} {{ [] is "
     "iterable }} {{ 's' is sequence }} {{ 1 is number }} {{ 1 is integer }} {{ 1.0 is float }} {{ true is boolean }} "
     "{{ true is true }} {{ false is false }} {{ 3 is odd }} {{ 4 is even }} {{ 2 is equalto 2 }} {{ 2 is in [1,2] }} "
     "{{ 'x' is not none }} {{ 9 is divisibleby(3) }}",
     "{\"x\": 1}", "True True True True True True True True True True True True True True True True True True True"},
    {"{{ ' a '.strip() }}|{{ 'xax'.lstrip('x') }}|{{ 'xax'.rstrip('x') }}|{{ 'abc'.startswith('a') }} {{ "
     "'abc'.endswith(('z', 'c')) }} {{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ "
     "'aXa'.replace('a', 'b') }} {{ 'Ab'.upper() }}{{ 'Ab'.lower() }} {{ 'hi there'.title() }} {{ 'hi'.capitalize() }} "
     "{{ '{} and {}'.format(1, 'x') }}",
     "{}", "a|ax|xa|True True ['a', 'b', '', 'c'] ['a', 'b'] ['a', 'b c'] bXb ABab Hi There Hi 1 and x"},
    {"{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 5) }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.items() "
     "| list }}",
     "{\"d\": {\"a\": 1}}", "1 None 5 ['a'] [1] [('a', 1)]"},
    {"[{{ missing }}][{{ missing | default('x') }}][{{ d.nothing }}][{% for i in missing %}{{ i }}{% endfor %}][{{ "
     "missing | length }}]",
     "{\"d\": {}}", "[][x][][][0]"},
};

TEST(JinjaBuiltins, RendersLikeJinja2) { test::check_cases(kBuiltinCases, std::size(kBuiltinCases)); }

TEST(JinjaBuiltins, StrftimeNowFormatsTheGivenTime) {
  Result<Template> t = Template::parse("{{ strftime_now('%d %b %Y') }}");
  ASSERT_TRUE(t.is_ok());
  RenderOptions opts;
  std::tm day{};
  day.tm_year = 2026 - 1900;
  day.tm_mon = 10;
  day.tm_mday = 24;
  opts.now = day;
  EXPECT_EQ(*t->render(Value::new_dict(), opts), "24 Nov 2026");
}

TEST(JinjaBuiltins, FloatsPrintLikePython) {
  EXPECT_EQ(format_float(1.0), "1.0");
  EXPECT_EQ(format_float(0.0001), "0.0001");
  EXPECT_EQ(format_float(0.00001), "1e-05");
  EXPECT_EQ(format_float(1e16), "1e+16");
  EXPECT_EQ(format_float(123456789012345.6), "123456789012345.6");
  EXPECT_EQ(format_float(-2.5), "-2.5");
}

TEST(JinjaBuiltins, JsonContextKeepsKeyOrderAndTypes) {
  Result<Value> v = value_from_json(R"({"z": 1, "a": [true, null, 2.5, "s"]})");
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ(v->to_json(-1, false), R"({"z": 1, "a": [true, null, 2.5, "s"]})");
  EXPECT_FALSE(value_from_json("{\"a\": ").is_ok());
}

TEST(JinjaBuiltins, HostileArithmeticErrorsInsteadOfOverflowing) {
  for (const char* src : {"{{ 9223372036854775807 + 1 }}", "{{ -9223372036854775807 - 2 }}", "{{ 2 ** 64 }}",
                          "{{ 4611686018427387904 * 4 }}", "{{ range(10**9) | length }}", "{{ 'ab' * 10**12 }}",
                          "{{ [1, 9223372036854775807] | sum }}"}) {
    SCOPED_TRACE(src);
    EXPECT_FALSE(test::render(src).is_ok());
  }
  EXPECT_EQ(*test::render("{{ (-1) ** 1000000000001 }} {{ '' * 10**15 }}| {{ [1,2,3][::9223372036854775807] }}"),
            "-1 | [1]");
  EXPECT_EQ(*test::render("{{ 1e300 | int }} {{ range(9223372036854775806, 9223372036854775807, 5) | list }}"),
            "0 [9223372036854775806]");
}

}  // namespace
}  // namespace edgellm::jinja
