from aitk.cli import main

main()
