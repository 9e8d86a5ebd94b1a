"""A minimal Django project signed in through Cognito's hosted UI with cognito_helper.django."""
