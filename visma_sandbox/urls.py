app_name = "visma_sandbox"

urlpatterns: list = []
