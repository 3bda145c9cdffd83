"""manage.py sandbox_fault ACTION [N] [--company ORG_NO]

    show                         the switches and the quota
    lose N [--mode drop|504]     store the next N vouchers, then lose the answer
    5xx N                        answer 500 (ErrorCode 5000) to the next N API requests
    429 N [--retry-after S]      answer 429 (ErrorCode 4010) to the next N API requests
    latency MS                   wait MS milliseconds before every API answer (0: off)
    attachment-5xx N             answer 500 to the next N POST /attachments (nothing stored)
    attachment-lose N [--mode]   store the next N attachments, then lose the answer
    expire-tokens                every access token expires now
    revoke-refresh               every refresh token is revoked (next refresh: invalid_grant)
    quota N                      requests per minute per client and endpoint (0: default)
    clear                        every switch off
    reset                        forget vouchers, tokens, faults; restore the demo companies

Without --company a switch is global (every company's requests obey it).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import F

from visma_sandbox import services
from visma_sandbox.models import FaultSwitch

COUNTED = {
    "lose": "lose_after_store",
    "5xx": "fail_5xx",
    "429": "fail_429",
    "latency": "latency_ms",
    "attachment-5xx": "fail_attachment_upload",
    "attachment-lose": "lose_attachment_after_store",
}
ACTIONS = [*COUNTED, "show", "expire-tokens", "revoke-refresh", "quota", "clear", "reset"]


class Command(BaseCommand):
    help = "Arm the Visma sandbox simulator's fault switches (see the module docstring)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=ACTIONS)
        parser.add_argument("n", nargs="?", type=int)
        parser.add_argument("--company", help="org number (or name) of one simulated company")
        parser.add_argument("--mode", choices=FaultSwitch.LoseMode.values)
        parser.add_argument("--retry-after", type=int)

    def handle(self, *args, action, n, company, mode, retry_after, **options):
        if company:
            try:
                company = services.get_company(company)
            except Exception:
                raise CommandError(f"No simulated company {company!r}") from None
        where = company.name if company else "all companies"
        if action in COUNTED or action == "quota":
            if n is None or n < 0:
                raise CommandError(f"{action} needs a whole number, 0 or more")
        if action in COUNTED:
            services.set_fault(
                company=company,
                lose_mode=mode,
                retry_after_seconds=retry_after,
                **{COUNTED[action]: n},
            )
            self.stdout.write(f"{action} {n} set for {where}")
        elif action == "expire-tokens":
            self.stdout.write(
                f"{services.expire_access_tokens(company=company)} access token(s) expired"
            )
        elif action == "revoke-refresh":
            self.stdout.write(
                f"{services.revoke_refresh_tokens(company=company)} refresh token(s) revoked"
            )
        elif action == "quota":
            services.set_quota(n or None)
            self.stdout.write(f"quota {services.quota_per_minute()} per minute")
        elif action == "clear":
            services.clear_faults()
            self.stdout.write("every fault switch is off")
        elif action == "reset":
            services.reset_sandbox()
            self.stdout.write("simulator reset")
        self._show()

    def _show(self):
        for switch in FaultSwitch.objects.select_related("company").order_by(
            F("company").asc(nulls_first=True), "scope"
        ):
            name = switch.company.name if switch.company else "global"
            self.stdout.write(
                f"{name}: lose={switch.lose_after_store} ({switch.lose_mode}) "
                f"5xx={switch.fail_5xx} 429={switch.fail_429} "
                f"(retry-after {switch.retry_after_seconds}s) latency={switch.latency_ms}ms "
                f"attachment-5xx={switch.fail_attachment_upload} "
                f"attachment-lose={switch.lose_attachment_after_store}"
            )
        self.stdout.write(
            f"quota: {services.quota_per_minute()} per minute per client and endpoint"
        )
