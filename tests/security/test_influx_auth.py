"""InfluxDB authentication on the local stack: the collector's user cannot read, the reader cannot write."""

from __future__ import annotations

import stat

import pytest

from terril.endpoints import influx_endpoint
from terril.errors import InfluxAuthError
from terril.influx import InfluxClient
from terril.security.influx_auth import INFLUX_USERS, influx_init_statements
from terril.settings import Settings

pytestmark = pytest.mark.integration

LINE = b"reading,carrier=electricity,device=ecole-linky,meter=ecole-elec,site=ecole energy_import_wh=1 1767222000000000000\n"


def test_init_statements_quote_identifiers_and_passwords():
    out = influx_init_statements("terril", {"admin": "a'b\\c", "collector": "p", "reader": "r"})
    assert out[0] == "CREATE USER \"terril_admin\" WITH PASSWORD 'a\\'b\\\\c' WITH ALL PRIVILEGES"
    assert 'GRANT WRITE ON "terril" TO "terril_collector"' in out
    assert 'GRANT READ ON "terril" TO "terril_reader"' in out
    assert not any("terril_analytics" in s for s in out)
    with pytest.raises(ValueError):
        influx_init_statements('terril"; DROP DATABASE "x', {"admin": "p"})
    with pytest.raises(ValueError):
        influx_init_statements("terril", {"root": "p"})


def test_roles_have_exactly_their_privileges(secure_stack):
    state = secure_stack.state
    settings = Settings(data_dir=state.data_dir)
    for role in INFLUX_USERS:
        assert stat.S_IMODE(state.influx_secret_file(role).stat().st_mode) == 0o600
    assert influx_endpoint(settings, "collector").username == "terril_collector"
    assert influx_endpoint(settings, "reader").username == "terril_reader"
    with influx_endpoint(settings, "collector").client() as collector:
        collector.write_lines(LINE)  # write-only user writes
        with pytest.raises(InfluxAuthError):
            collector.query('SELECT * FROM "reading"')
    with influx_endpoint(settings, "reader").client() as reader:
        rows = reader.query('SELECT "energy_import_wh" FROM "reading" WHERE "device" = $d', params={"d": "ecole-linky"})
        assert rows and rows[0].values[-1][1] == 1.0
        with pytest.raises(InfluxAuthError):
            reader.write_lines(LINE.replace(b"=1 ", b"=2 "))
        with pytest.raises(InfluxAuthError):
            reader.query('DROP SERIES FROM "reading"', method="POST", epoch=None)
    with influx_endpoint(settings, "analytics").client() as analytics:
        analytics.write_lines(LINE.replace(b"reading", b"consumption_daily"))
        assert analytics.query('SELECT count(*) FROM "consumption_daily"')
    with InfluxClient(state.influx_url, state.database) as anonymous:
        with pytest.raises(InfluxAuthError):
            anonymous.query('SHOW MEASUREMENTS')
        with pytest.raises(InfluxAuthError):
            anonymous.write_lines(LINE)
    with InfluxClient(state.influx_url, state.database, username="terril_reader", password="wrong") as wrong:
        with pytest.raises(InfluxAuthError):
            wrong.query('SHOW MEASUREMENTS')
